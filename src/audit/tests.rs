//! The chain against tampering done directly in the database, as someone with the file would.

use std::sync::Arc;

use serde_json::json;
use sqlx::SqlitePool;

use super::*;
use crate::domain::audit_chain::{event_hash, GENESIS};
use crate::store::{self, AuditEvent, Store};

struct Fixture {
    store: Arc<dyn Store>,
    raw: SqlitePool,
    url: String,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    let store = store::open(&url).await.unwrap();
    let raw = SqlitePool::connect(&url).await.unwrap();
    Fixture {
        store,
        raw,
        url,
        _dir: dir,
    }
}

fn event(i: i64) -> AuditEvent {
    AuditEvent {
        at: 1_764_220_631_000 + i * 1000,
        request_id: Some("R-00000001".into()),
        actor: (i % 2 == 0).then(|| "U0002".to_string()),
        action: format!("step_{i}"),
        detail: json!({"n": i, "okta_id": format!("00u{i}"), "note": "ünïcødé \"quoted\""}),
    }
}

async fn with_events(n: i64) -> Fixture {
    let f = fixture().await;
    for i in 1..=n {
        f.store.append_audit(&event(i)).await.unwrap();
    }
    f
}

async fn sql(f: &Fixture, q: &str) {
    sqlx::query(q).execute(&f.raw).await.unwrap();
}

async fn broken(f: &Fixture) -> (String, u64, Problem) {
    match verify(f.store.as_ref()).await.unwrap() {
        Verdict::Broken { at, intact_before } => (at.to_string(), intact_before, at.problem),
        Verdict::Intact(i) => panic!("tampering not caught: {i:?}"),
    }
}

#[tokio::test]
async fn an_untouched_chain_verifies_and_reports_its_head() {
    let f = with_events(6).await;
    let Verdict::Intact(i) = verify(f.store.as_ref()).await.unwrap() else {
        panic!("not intact")
    };
    assert_eq!((i.events, i.head_seq), (6, 6));
    let last = f.store.last_audit("step_6").await.unwrap().unwrap();
    assert_eq!(last.hash.as_deref(), Some(i.head_hash.as_str()));
    let first = f.store.last_audit("step_1").await.unwrap().unwrap();
    assert_eq!(first.prev_hash.as_deref(), Some(GENESIS));
    assert_eq!(
        first.hash.unwrap(),
        event_hash(1, &event(1), GENESIS),
        "the stored hash is the documented one"
    );
}

#[tokio::test]
async fn an_edited_event_is_caught_at_that_event() {
    let f = with_events(6).await;
    sql(&f, "UPDATE audit_events SET actor = 'U0666' WHERE seq = 4").await;
    let (msg, before, problem) = broken(&f).await;
    assert_eq!(problem, Problem::Edited);
    assert_eq!(before, 3);
    assert_eq!(
        msg,
        "event #4 (`step_4` at 2025-11-27 05:17:15 UTC, row id 4) was edited: its content no longer matches its hash"
    );
}

#[tokio::test]
async fn detail_that_is_no_longer_json_counts_as_edited() {
    let f = with_events(3).await;
    sql(
        &f,
        "UPDATE audit_events SET detail = 'not json' WHERE seq = 2",
    )
    .await;
    assert_eq!(broken(&f).await.2, Problem::Edited);
}

#[tokio::test]
async fn an_edited_and_rehashed_event_breaks_the_next_link() {
    let f = with_events(6).await;
    let mut forged = event(4);
    forged.actor = Some("U0666".into());
    let prev = f
        .store
        .last_audit("step_3")
        .await
        .unwrap()
        .unwrap()
        .hash
        .unwrap();
    let hash = event_hash(4, &forged, &prev);
    sqlx::query("UPDATE audit_events SET actor = 'U0666', hash = ?1 WHERE seq = 4")
        .bind(&hash)
        .execute(&f.raw)
        .await
        .unwrap();
    let (msg, before, problem) = broken(&f).await;
    assert_eq!(problem, Problem::Unlinked { previous: 4 });
    assert_eq!(before, 4);
    assert_eq!(
        msg,
        "event #5 (`step_5` at 2025-11-27 05:17:16 UTC, row id 5) does not follow event #4: #4 was altered and re-hashed, or the chain was spliced"
    );
}

#[tokio::test]
async fn a_deleted_event_leaves_a_gap_that_is_named() {
    let f = with_events(6).await;
    sql(&f, "DELETE FROM audit_events WHERE seq = 3").await;
    let (msg, before, problem) = broken(&f).await;
    assert_eq!(
        problem,
        Problem::Missing {
            after: Some(2),
            from: 3,
            to: 3
        }
    );
    assert_eq!(before, 2);
    assert_eq!(
        msg,
        "event #3 is missing: after event #2 comes #4 (`step_4` at 2025-11-27 05:17:15 UTC, row id 4); deleted from the log"
    );
}

#[tokio::test]
async fn several_deleted_events_and_a_deleted_start_are_named() {
    let f = with_events(8).await;
    sql(&f, "DELETE FROM audit_events WHERE seq IN (4, 5, 6)").await;
    assert!(broken(&f)
        .await
        .0
        .starts_with("events #4 to #6 are missing: after event #3 comes #7"));
    let g = with_events(3).await;
    sql(&g, "DELETE FROM audit_events WHERE seq = 1").await;
    let (msg, before, _) = broken(&g).await;
    assert_eq!(before, 0);
    assert!(
        msg.starts_with("event #1 is missing: the log starts at event #2"),
        "{msg}"
    );
}

#[tokio::test]
async fn swapped_events_are_caught_as_reordered() {
    let f = with_events(6).await;
    // Swap the storage positions of events 3 and 4, each row otherwise untouched.
    sql(&f, "UPDATE audit_events SET id = 100 WHERE seq = 3").await;
    sql(&f, "UPDATE audit_events SET id = 3 WHERE seq = 4").await;
    sql(&f, "UPDATE audit_events SET id = 4 WHERE seq = 3").await;
    let (msg, before, problem) = broken(&f).await;
    assert_eq!(problem, Problem::Reordered { after: 4 });
    assert_eq!(before, 2);
    assert_eq!(
        msg,
        "event #3 (`step_3` at 2025-11-27 05:17:14 UTC, row id 4) is stored after event #4: the log was reordered"
    );
}

#[tokio::test]
async fn swapped_contents_are_caught_as_an_edit() {
    let f = with_events(6).await;
    // Exchange what events 2 and 5 say, leaving their places and hashes alone.
    let row = |seq: i64| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT action, detail FROM audit_events WHERE seq = ?1",
        )
        .bind(seq)
        .fetch_one(&f.raw)
    };
    let (two, five) = (row(2).await.unwrap(), row(5).await.unwrap());
    for (seq, (action, detail)) in [(2, five), (5, two)] {
        sqlx::query("UPDATE audit_events SET action = ?1, detail = ?2 WHERE seq = ?3")
            .bind(action)
            .bind(detail)
            .bind(seq)
            .execute(&f.raw)
            .await
            .unwrap();
    }
    let (msg, before, problem) = broken(&f).await;
    assert_eq!((problem, before), (Problem::Edited, 1));
    assert!(msg.starts_with("event #2 (`step_5`"), "{msg}");
}

#[tokio::test]
async fn a_row_without_chain_columns_is_caught() {
    let f = with_events(3).await;
    sql(
        &f,
        "INSERT INTO audit_events (at, action, detail) VALUES (1764220640000, 'approved', '{}')",
    )
    .await;
    let (msg, before, problem) = broken(&f).await;
    assert_eq!((problem, before), (Problem::Unsealed, 3));
    assert_eq!(
        msg,
        "the event in row id 4 (`approved` at 2025-11-27 05:17:20 UTC, row id 4) has no chain hash: it was written or altered outside okta-reset"
    );
}

#[tokio::test]
async fn an_empty_log_cannot_be_verified() {
    let f = fixture().await;
    assert!(matches!(
        verify(f.store.as_ref()).await,
        Err(VerifyError::Empty)
    ));
}

#[tokio::test]
async fn concurrent_appends_make_one_unbroken_chain() {
    let f = fixture().await;
    let tasks: Vec<_> = (1..=48)
        .map(|i| {
            let store = f.store.clone();
            tokio::spawn(async move { store.append_audit(&event(i)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let Verdict::Intact(i) = verify(f.store.as_ref()).await.unwrap() else {
        panic!("concurrent appends forked the chain")
    };
    assert_eq!((i.events, i.head_seq), (48, 48));
}

// Sealing pre-chain events at upgrade, once: `store::contract_tests::audit_seal` (both backends).

#[tokio::test]
async fn a_store_from_a_newer_schema_is_refused_untouched() {
    let f = with_events(2).await;
    let recorded: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
        .fetch_one(&f.raw)
        .await
        .unwrap();
    assert_eq!(recorded, store::SqliteStore::known_schema_version());
    sql(&f, "UPDATE schema_version SET version = 99").await;
    let err = match store::open_read_only(&f.url).await {
        Ok(_) => panic!("a newer store was opened"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err,
        format!(
            "the store at {} is at schema version 99, newer than this okta-reset knows ({}): it was written by a newer okta-reset. Use that version (or newer) with this store; nothing was changed",
            f.url,
            store::SqliteStore::known_schema_version()
        )
    );
    let v: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
        .fetch_one(&f.raw)
        .await
        .unwrap();
    assert_eq!(v, 99);
}

#[tokio::test]
async fn a_missing_store_is_not_created_by_the_audit_commands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.db");
    let url = format!("sqlite://{}", path.display());
    let err = match store::open_read_only(&url).await {
        Ok(_) => panic!("opened a store that does not exist"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err,
        format!(
            "cannot open the store: there is no store at {} (store.url = \"{url}\"); check the path. Nothing was created",
            path.display()
        )
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn a_move_across_a_page_boundary_is_still_told_from_a_deletion() {
    let f = with_events(PAGE + 3).await;
    let (a, b) = (PAGE, PAGE + 1);
    sql(
        &f,
        &format!("UPDATE audit_events SET id = -1 WHERE seq = {a}"),
    )
    .await;
    sql(
        &f,
        &format!("UPDATE audit_events SET id = {a} WHERE seq = {b}"),
    )
    .await;
    sql(
        &f,
        &format!("UPDATE audit_events SET id = {b} WHERE id = -1"),
    )
    .await;
    let (_, before, problem) = broken(&f).await;
    assert_eq!(problem, Problem::Reordered { after: b });
    assert_eq!(before, (PAGE - 1) as u64);
}
