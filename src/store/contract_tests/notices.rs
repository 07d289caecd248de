//! The contract for the DM journal (`policy.notify_users`): one notice per reset user, claimed
//! before any Slack call, so a restart never sends a second; a report recorded once.

use super::*;
use crate::store::{NoticeOutcome, NoticeState};

#[tokio::test]
async fn a_notice_is_claimed_once_settled_and_reported_once() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        assert!(store.claim_notice(id, 0, 1_000).await.unwrap());
        assert!(
            !store.claim_notice(id, 0, 2_000).await.unwrap(),
            "a second claim (a restart, another replica) sends nothing"
        );
        assert!(store.claim_notice(id, 2, 1_000).await.unwrap());
        let sent = NoticeOutcome {
            state: NoticeState::Notified,
            slack_user: Some("U0101"),
            dm_channel: Some("D0101"),
            dm_ts: Some("1.5"),
            reason: None,
        };
        store.settle_notice(id, 0, &sent, 3_000).await.unwrap();
        let n = store.notices(id).await.unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(
            (
                n[0].seq,
                n[0].state.code(),
                n[0].dm_channel.as_deref(),
                n[0].dm_ts.as_deref()
            ),
            (0, "notified", Some("D0101"), Some("1.5"))
        );
        assert_eq!(n[0].slack_user.as_deref(), Some("U0101"));
        assert_eq!((n[1].seq, n[1].state.code()), (2, "sending"));
        assert_eq!(n[1].reason, None);
        assert!(store.report_notice(id, 0, 4_000).await.unwrap());
        assert!(!store.report_notice(id, 0, 5_000).await.unwrap());
        assert_eq!(store.notices(id).await.unwrap()[0].reported_at, Some(4_000));
        assert_eq!(store.notices("R-00000009").await.unwrap(), vec![]);
    }
}
