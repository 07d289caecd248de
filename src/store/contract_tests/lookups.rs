//! The contract for recorded Okta lookups (what the hourly limit counts besides stored requests).

use super::*;

#[tokio::test]
async fn lookups_are_recorded_once_and_listed_per_requester_oldest_first() {
    for (store, _dir, _) in backends().await {
        store
            .record_lookup("R-00000002", "U0001", 2_000)
            .await
            .unwrap();
        store
            .record_lookup("R-00000001", "U0001", 1_000)
            .await
            .unwrap();
        store
            .record_lookup("R-00000003", "U0002", 1_500)
            .await
            .unwrap();
        // The same request again (a retry) is not a second lookup, and keeps its time.
        store
            .record_lookup("R-00000001", "U0001", 3_000)
            .await
            .unwrap();
        assert_eq!(
            store.lookups_by_since("U0001", 0).await.unwrap(),
            vec![
                ("R-00000001".to_string(), 1_000),
                ("R-00000002".to_string(), 2_000)
            ]
        );
        assert_eq!(
            store.lookups_by_since("U0001", 1_000).await.unwrap(),
            vec![("R-00000002".to_string(), 2_000)],
            "`since` is exclusive"
        );
        assert_eq!(store.lookups_by_since("U0009", 0).await.unwrap(), vec![]);
    }
}
