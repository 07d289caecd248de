//! The audit log against a rewrite done with the bot stopped (issue 13, point 5): legacy rows are
//! sealed once, by migration 0013, and never again; `audit verify` opens the store read-only.

use super::*;
use crate::audit::{verify, Problem, Verdict};

/// Every row's chain columns, in storage order, read through a read-only store.
async fn chain_columns(url: &str) -> Vec<(Option<i64>, Option<String>)> {
    let ro = open_read_only(url).await.unwrap();
    let page = ro
        .audit_page(&AuditQuery {
            after_id: 0,
            since: None,
            request_id: None,
            limit: 1000,
        })
        .await
        .unwrap();
    page.into_iter().map(|r| (r.seq, r.hash)).collect()
}

#[tokio::test]
async fn a_stripped_chain_is_never_resealed_and_verify_reports_it_without_writing() {
    for (store, _dir, url) in backends().await {
        for i in 1..=12 {
            store
                .append_audit(&audit_event(i, Some("R-00000001"), "step"))
                .await
                .unwrap();
        }
        drop(store);
        // With the bot stopped: one actor edited, seven rows deleted, every chain column emptied.
        raw_sql(
            &url,
            "UPDATE audit_events SET actor = 'U0666' WHERE seq = 2",
        )
        .await;
        raw_sql(&url, "DELETE FROM audit_events WHERE seq BETWEEN 4 AND 10").await;
        raw_sql(
            &url,
            "UPDATE audit_events SET seq = NULL, prev_hash = NULL, hash = NULL",
        )
        .await;
        // The bot starting again does not seal them: the legacy seal happened with migration 0013.
        drop(open(&url).await.unwrap());
        let stripped = chain_columns(&url).await;
        assert_eq!(stripped.len(), 5);
        assert!(stripped.iter().all(|c| *c == (None, None)), "{stripped:?}");
        // Verify reports the first row as unsealed...
        let ro = open_read_only(&url).await.unwrap();
        match verify(ro.as_ref()).await.unwrap() {
            Verdict::Broken { at, intact_before } => {
                assert_eq!((at.problem, intact_before), (Problem::Unsealed, 0), "{url}")
            }
            Verdict::Intact(i) => panic!("a stripped log was reported intact: {i:?} ({url})"),
        }
        // ...and wrote nothing: a read-only store cannot append, and the rows are as they were.
        assert!(ro
            .append_audit(&audit_event(13, None, "step"))
            .await
            .is_err());
        assert_eq!(chain_columns(&url).await, stripped);
    }
}

#[tokio::test]
async fn legacy_events_are_sealed_by_the_migration_once() {
    for (store, _dir, url) in backends().await {
        drop(store);
        // As a store from before migration 0013 left its pre-chain events.
        raw_sql(&url, "DROP TABLE audit_legacy_seal").await;
        raw_sql(&url, "DELETE FROM _sqlx_migrations WHERE version = 13").await;
        raw_sql(&url, "UPDATE schema_version SET version = 12").await;
        for a in ["policy_loaded", "request_received"] {
            raw_sql(
                &url,
                &format!("INSERT INTO audit_events (at, action, detail) VALUES (1, '{a}', '{{}}')"),
            )
            .await;
        }
        let store = open(&url).await.unwrap();
        store
            .append_audit(&audit_event(3, None, "step"))
            .await
            .unwrap();
        drop(store);
        let ro = open_read_only(&url).await.unwrap();
        let Verdict::Intact(i) = verify(ro.as_ref()).await.unwrap() else {
            panic!("the upgrade did not seal ({url})")
        };
        assert_eq!((i.events, i.head_seq), (3, 3));
    }
}
