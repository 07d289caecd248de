//! The contract every store backend must pass. Each test takes a freshly opened store.

use super::*;

/// A fresh store of each backend: SQLite in a scratch folder, PostgreSQL in a scratch schema
/// on the local server. Each test runs its body against both.
async fn backends() -> Vec<(Arc<dyn Store>, Option<tempfile::TempDir>, String)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}/store.db", dir.path().display());
    let pg_url = scratch_schema_url(&test_server_url())
        .await
        .expect("PostgreSQL is reachable (start it: see .ci/run)");
    vec![
        (
            open(&sqlite_url).await.expect("open sqlite"),
            Some(dir),
            sqlite_url,
        ),
        (open(&pg_url).await.expect("open postgres"), None, pg_url),
    ]
}

fn request(id: &str) -> NewRequest {
    NewRequest {
        id: id.parse().unwrap(),
        team_id: "T0001".parse().unwrap(),
        channel_id: "C0001".parse().unwrap(),
        requester: "U0001".parse().unwrap(),
        command_text: "group:contractors reason:\"INC-1\"".into(),
        reason: Some("INC-1".into()),
        dry_run: false,
        revoke_sessions: true,
        contain: true,
        state: State::PendingApproval,
        digest: "abc".into(),
        resolved_count: 3,
        reset_count: 2,
        created_at: 1_000,
        expires_at: 2_000,
    }
}

fn target(id: &str, class: &str) -> NewTarget {
    NewTarget {
        okta_id: Some(id.into()),
        login: Some(format!("{id}@Example.com")),
        email: Some(format!("{id}@example.com")),
        display_name: Some("A B".into()),
        status: Some("ACTIVE".into()),
        provider: Some("OKTA".into()),
        source: "group:contractors".into(),
        classification: TargetClass::parse(class).unwrap(),
        detail: "will reset".into(),
    }
}

async fn seeded(store: &Arc<dyn Store>) {
    store
        .create_request(
            &request("R-00000001"),
            &[
                target("u1", "reset"),
                target("u2", "skip_directory"),
                target("u3", "reset"),
            ],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_request_round_trips_with_every_field() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let r = store.get_request("R-00000001").await.unwrap().unwrap();
        let want = request("R-00000001");
        assert_eq!(r.reason, want.reason);
        assert!(r.revoke_sessions && r.contain);
        assert!(!r.dry_run);
        assert_eq!(r.state, State::PendingApproval);
        assert_eq!((r.resolved_count, r.reset_count), (3, 2));
        assert_eq!((r.created_at, r.expires_at), (1_000, 2_000));
        assert_eq!(r.decision, None);
        assert!(store.get_request("R-NOPE0000").await.unwrap().is_none());
        let t = store.targets("R-00000001").await.unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[1].target, target("u2", "skip_directory"));
        assert_eq!(t[1].outcome, Outcome::Skipped);
        assert_eq!(t[0].outcome, Outcome::Pending);
    }
}

#[tokio::test]
async fn only_one_of_two_racing_decisions_wins() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let d = |who: &str| Decision {
            decision: DecisionKind::Approved,
            actor: who.parse().unwrap(),
            decided_at: 1_500,
        };
        let (d2, d3) = (d("U0002"), d("U0003"));
        let (a, b) = tokio::join!(
            store.transition(
                "R-00000001",
                State::PendingApproval,
                State::Approved,
                Some(&d2),
                1_500
            ),
            store.transition(
                "R-00000001",
                State::PendingApproval,
                State::Approved,
                Some(&d3),
                1_500
            ),
        );
        assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1);
        let r = store.get_request("R-00000001").await.unwrap().unwrap();
        assert_eq!(r.state, State::Approved);
        assert_eq!(r.decision.unwrap().decided_at, 1_500);
    }
}

#[tokio::test]
async fn running_and_finishing_stamp_times_once() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        assert!(store
            .transition(
                "R-00000001",
                State::PendingApproval,
                State::Approved,
                None,
                1
            )
            .await
            .unwrap());
        assert!(store
            .transition("R-00000001", State::Approved, State::Running, None, 5)
            .await
            .unwrap());
        assert!(store
            .transition("R-00000001", State::Running, State::Completed, None, 9)
            .await
            .unwrap());
        let r = store.get_request("R-00000001").await.unwrap().unwrap();
        assert_eq!((r.started_at, r.finished_at), (Some(5), Some(9)));
        assert!(!store
            .transition("R-00000001", State::Running, State::Completed, None, 10)
            .await
            .unwrap());
    }
}

#[tokio::test]
async fn outcomes_are_journalled_per_user() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        assert_eq!(store.pending_resets("R-00000001").await.unwrap().len(), 2);
        store
            .set_outcome("R-00000001", 0, Outcome::Reset, None, Some("okta-req-1"), 7)
            .await
            .unwrap();
        let pending = store.pending_resets("R-00000001").await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].seq, 2);
        let t = &store.targets("R-00000001").await.unwrap()[0];
        assert_eq!(t.okta_request_id.as_deref(), Some("okta-req-1"));
        assert_eq!(t.outcome_at, Some(7));
        let counts = store.outcome_counts("R-00000001").await.unwrap();
        assert_eq!(
            counts,
            vec![
                (Outcome::Pending, 1),
                (Outcome::Reset, 1),
                (Outcome::Skipped, 1)
            ]
        );
    }
}

#[tokio::test]
async fn a_reset_is_marked_in_flight_only_from_pending_so_two_holders_never_both_send_it() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        assert!(store.mark_in_flight("R-00000001", 0, 5).await.unwrap());
        // A second holder of the run (a takeover, an earlier pass) finds it taken.
        assert!(!store.mark_in_flight("R-00000001", 0, 6).await.unwrap());
        let t = &store.targets("R-00000001").await.unwrap()[0];
        assert_eq!((t.outcome, t.outcome_at), (Outcome::InFlight, Some(5)));
        store
            .set_outcome("R-00000001", 0, Outcome::Reset, None, None, 7)
            .await
            .unwrap();
        assert!(!store.mark_in_flight("R-00000001", 0, 8).await.unwrap());
        // Seq 1 is skipped at classification: never marked.
        assert!(!store.mark_in_flight("R-00000001", 1, 8).await.unwrap());
        assert_eq!(
            store.targets("R-00000001").await.unwrap()[1].outcome,
            Outcome::Skipped
        );
    }
}

#[tokio::test]
async fn the_contain_step_is_journalled_apart_from_the_reset() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let t = &store.targets("R-00000001").await.unwrap()[0];
        assert_eq!((t.sessions, t.sessions_reason.as_deref()), (None, None));
        store
            .set_outcome("R-00000001", 0, Outcome::Reset, None, None, 7)
            .await
            .unwrap();
        store
            .set_sessions(
                "R-00000001",
                0,
                Sessions::NotEnded,
                Some("Okta answered 503"),
            )
            .await
            .unwrap();
        let t = &store.targets("R-00000001").await.unwrap()[0];
        assert_eq!(t.outcome, Outcome::Reset);
        assert_eq!(t.sessions, Some(Sessions::NotEnded));
        assert_eq!(t.sessions_reason.as_deref(), Some("Okta answered 503"));
        store
            .set_sessions("R-00000001", 0, Sessions::Ended, None)
            .await
            .unwrap();
        let t = &store.targets("R-00000001").await.unwrap()[0];
        assert_eq!(
            (t.sessions, t.sessions_reason.as_deref()),
            (Some(Sessions::Ended), None)
        );
    }
}

#[tokio::test]
async fn identities_match_only_targets_to_reset_case_insensitively() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        assert!(store
            .resets_identity("R-00000001", &["U1@EXAMPLE.COM".into()])
            .await
            .unwrap());
        // u2 is skipped (directory-managed): not a target that would be reset.
        assert!(!store
            .resets_identity("R-00000001", &["u2@example.com".into()])
            .await
            .unwrap());
    }
}

#[tokio::test]
async fn summary_is_claimed_once() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        assert!(store.claim_summary("R-00000001", "1.1").await.unwrap());
        assert!(!store.claim_summary("R-00000001", "1.2").await.unwrap());
    }
}

#[tokio::test]
async fn a_pending_request_survives_reopening_the_store() {
    for (store, _dir, url) in backends().await {
        seeded(&store).await;
        store.set_root_ts("R-00000001", "123.456").await.unwrap();
        drop(store);
        let again = open(&url).await.unwrap();
        let r = again.get_request("R-00000001").await.unwrap().unwrap();
        assert_eq!(r.root_ts.as_deref(), Some("123.456"));
        let pending = again
            .requests_in_states(&[State::PendingApproval])
            .await
            .unwrap();
        assert_eq!(pending.len(), 1);
        assert!(again
            .requests_in_states(&[State::Running])
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn audit_events_keep_order_and_detail() {
    for (store, _dir, _) in backends().await {
        for (i, action) in ["request_received", "approval_posted"].iter().enumerate() {
            store
                .append_audit(&AuditEvent {
                    at: i as i64,
                    request_id: Some("R-00000001".into()),
                    actor: Some("U0001".into()),
                    action: action.to_string(),
                    detail: serde_json::json!({"n": i}),
                })
                .await
                .unwrap();
        }
        let ev = store.audit_events(Some("R-00000001")).await.unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[1].action, "approval_posted");
        assert_eq!(ev[1].detail["n"], 1);
        assert!(store
            .audit_events(Some("R-OTHER000"))
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn one_replica_holds_a_run_until_its_lease_lapses() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        // Not approved yet: nobody can hold it.
        assert!(!store.claim_run(id, "a", 100, 200).await.unwrap());
        assert!(store
            .transition(id, State::PendingApproval, State::Approved, None, 1)
            .await
            .unwrap());
        assert_eq!(
            store.runs_without_holder(100).await.unwrap(),
            vec![id.to_string()]
        );
        assert!(store.claim_run(id, "a", 100, 200).await.unwrap());
        assert!(
            !store.claim_run(id, "b", 150, 250).await.unwrap(),
            "a's lease is live"
        );
        assert!(store.runs_without_holder(150).await.unwrap().is_empty());
        assert!(store.claim_run(id, "a", 150, 300).await.unwrap(), "renewal");
        assert!(!store.claim_run(id, "b", 299, 400).await.unwrap());
        assert!(
            store.claim_run(id, "b", 301, 400).await.unwrap(),
            "lapsed: b takes over"
        );
        assert!(
            !store.claim_run(id, "a", 302, 500).await.unwrap(),
            "a lost it"
        );
        store.release_run(id, "a").await.unwrap();
        assert!(
            !store.claim_run(id, "c", 303, 500).await.unwrap(),
            "a cannot release b's lease"
        );
        store.release_run(id, "b").await.unwrap();
        assert!(store.claim_run(id, "c", 303, 500).await.unwrap());
        assert!(store
            .transition(id, State::Approved, State::Completed, None, 5)
            .await
            .unwrap());
        assert!(store.runs_without_holder(10_000).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_run_that_ended_without_its_summary_is_held_until_the_summary_is_recorded() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        for (from, to, at) in [
            (State::PendingApproval, State::Approved, 1),
            (State::Approved, State::Running, 2),
            (State::Running, State::Completed, 3),
        ] {
            assert!(store.transition(id, from, to, None, at).await.unwrap());
        }
        // Ended without a summary: listed once nobody holds it, and held by one replica at a time.
        assert_eq!(store.unsummarized_runs(100).await.unwrap(), vec![id]);
        assert!(store.claim_run(id, "a", 100, 200).await.unwrap());
        assert!(store.unsummarized_runs(150).await.unwrap().is_empty());
        assert!(!store.claim_run(id, "b", 150, 250).await.unwrap());
        assert_eq!(store.unsummarized_runs(201).await.unwrap(), vec![id]);
        assert!(store.runs_without_holder(201).await.unwrap().is_empty());
        store.release_run(id, "a").await.unwrap();
        // Once the summary is recorded there is nothing left to hold.
        assert!(store.claim_summary(id, "1700000000.000900").await.unwrap());
        assert!(store.unsummarized_runs(300).await.unwrap().is_empty());
        assert!(!store.claim_run(id, "b", 300, 400).await.unwrap());
    }
}

fn audit_event(at: i64, request: Option<&str>, action: &str) -> AuditEvent {
    AuditEvent {
        at,
        request_id: request.map(str::to_string),
        actor: Some("U0001".into()),
        action: action.into(),
        detail: serde_json::json!({"z": 1, "a": [1.5, "x"]}),
    }
}

#[tokio::test]
async fn audit_appends_form_a_chain_read_back_in_pages() {
    for (store, _dir, _) in backends().await {
        chain_read_back_in_pages(store).await;
    }
}

async fn chain_read_back_in_pages(store: Arc<dyn Store>) {
    for i in 0..5 {
        let req = if i % 2 == 0 { Some("R-00000001") } else { None };
        store
            .append_audit(&audit_event(100 + i, req, &format!("a{i}")))
            .await
            .unwrap();
    }
    let page = |after_id, since, request_id: Option<&str>, limit| AuditQuery {
        after_id,
        since,
        request_id: request_id.map(str::to_string),
        limit,
    };
    let first = store.audit_page(&page(0, None, None, 3)).await.unwrap();
    assert_eq!(first.len(), 3);
    let rest = store
        .audit_page(&page(first[2].id, None, None, 3))
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
    let all: Vec<AuditRecord> = first.into_iter().chain(rest).collect();
    assert_eq!(
        all.iter().map(|r| r.seq.unwrap()).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        all[0].prev_hash.as_deref(),
        Some(crate::domain::audit_chain::GENESIS)
    );
    for w in all.windows(2) {
        assert_eq!(
            w[1].prev_hash, w[0].hash,
            "each event links to the one before"
        );
    }
    for r in &all {
        assert_eq!(
            r.hash.as_deref().unwrap(),
            crate::domain::audit_chain::event_hash(
                r.seq.unwrap(),
                &r.event,
                r.prev_hash.as_deref().unwrap()
            )
        );
    }
    // Detail comes back as stored (canonical key order does not change the value).
    assert_eq!(
        all[0].event.detail,
        serde_json::json!({"a": [1.5, "x"], "z": 1})
    );
    let filtered = store
        .audit_page(&page(0, Some(102), Some("R-00000001"), 10))
        .await
        .unwrap();
    assert_eq!(
        filtered
            .iter()
            .map(|r| r.event.action.as_str())
            .collect::<Vec<_>>(),
        vec!["a2", "a4"]
    );
    let last = store.last_audit("a3").await.unwrap().unwrap();
    assert_eq!(last.seq, Some(4));
    assert!(store.last_audit("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_audit_appends_never_fork_the_chain() {
    for (store, _dir, _) in backends().await {
        appends_never_fork(store).await;
    }
}

async fn appends_never_fork(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move { s.append_audit(&audit_event(i, None, "x")).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let all = store
        .audit_page(&AuditQuery {
            after_id: 0,
            since: None,
            request_id: None,
            limit: 100,
        })
        .await
        .unwrap();
    let mut seqs: Vec<i64> = all.iter().map(|r| r.seq.unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=32).collect::<Vec<_>>());
    let hashes: std::collections::HashSet<_> = all.iter().map(|r| r.prev_hash.clone()).collect();
    assert_eq!(hashes.len(), 32, "no two events claim the same predecessor");
}

/// Runs one statement on the store's database behind the adapter's back.
async fn raw_sql(url: &str, sql: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn a_store_records_its_schema_and_refuses_a_newer_one() {
    for (store, _dir, url) in backends().await {
        store
            .append_audit(&audit_event(1, None, "policy_loaded"))
            .await
            .unwrap();
        drop(store);
        // Reopening at the same version is fine.
        open(&url).await.expect("same version reopens");
        raw_sql(&url, "UPDATE schema_version SET version = 99").await;
        let err = match open(&url).await {
            Ok(_) => panic!("a store from a newer schema was opened: {url}"),
            Err(e) => e,
        };
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("written by a newer okta-reset"));
    }
}

#[tokio::test]
async fn staged_pages_become_the_snapshot_with_the_request_or_vanish() {
    for (store, _dir, _) in backends().await {
        staged_pages_on(store).await;
    }
}

async fn staged_pages_on(store: Arc<dyn Store>) {
    // Two pages staged as Okta answers, then the request is created from them.
    store
        .stage_targets(
            "R-00000002",
            0,
            &[target("u1", "reset"), target("u2", "skip_protected")],
            1_000,
        )
        .await
        .unwrap();
    store
        .stage_targets("R-00000002", 2, &[target("u3", "reset")], 1_000)
        .await
        .unwrap();
    assert!(store.get_request("R-00000002").await.unwrap().is_none());
    assert!(store.targets("R-00000002").await.unwrap().is_empty());
    store
        .create_request_from_staged(&request("R-00000002"))
        .await
        .unwrap();
    let t = store.targets("R-00000002").await.unwrap();
    assert_eq!(
        t.iter().map(|t| (t.seq, t.outcome)).collect::<Vec<_>>(),
        [
            (0, Outcome::Pending),
            (1, Outcome::Skipped),
            (2, Outcome::Pending)
        ]
    );
    assert_eq!(t[1].target, target("u2", "skip_protected"));
    assert_eq!(store.pending_resets("R-00000002").await.unwrap().len(), 2);
    // The staging rows were moved, not copied: creating again finds none (and fails on the id).
    assert!(store
        .create_request_from_staged(&request("R-00000002"))
        .await
        .is_err());
    assert_eq!(store.targets("R-00000002").await.unwrap().len(), 3);

    // A refused request's staged rows are discarded and leave nothing behind.
    store
        .stage_targets("R-00000003", 0, &[target("u9", "reset")], 1_000)
        .await
        .unwrap();
    store.discard_staged("R-00000003").await.unwrap();
    store
        .create_request_from_staged(&request("R-00000003"))
        .await
        .unwrap();
    assert!(store.targets("R-00000003").await.unwrap().is_empty());
}

#[tokio::test]
async fn rows_left_by_a_resolution_that_died_are_swept_and_live_ones_kept() {
    for (store, _dir, _) in backends().await {
        // A process died while resolving R-00000004 at 1 000 ms; R-00000005 is being resolved
        // now; R-00000006 was staged by a replica from before `staged_at` existed (0).
        let stage = |id: &'static str, at: i64| {
            let store = store.clone();
            async move {
                store
                    .stage_targets(id, 0, &[target("u1", "reset"), target("u2", "reset")], at)
                    .await
                    .unwrap()
            }
        };
        stage("R-00000004", 1_000).await;
        stage("R-00000005", 9_000).await;
        stage("R-00000006", 0).await;
        assert_eq!(store.discard_staged_before(5_000).await.unwrap(), 2);
        assert_eq!(store.discard_staged_before(5_000).await.unwrap(), 0);
        for (id, kept) in [("R-00000004", 0), ("R-00000005", 2), ("R-00000006", 2)] {
            store
                .create_request_from_staged(&request(id))
                .await
                .unwrap();
            assert_eq!(store.targets(id).await.unwrap().len(), kept, "{id}");
        }
    }
}

#[tokio::test]
async fn an_event_is_claimed_once_even_when_racing() {
    for (store, _dir, _) in backends().await {
        let (a, b) = tokio::join!(
            store.claim_event("event:Ev0001", 10),
            store.claim_event("event:Ev0001", 11)
        );
        assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1);
        assert!(store.claim_event("message:C0001:1.2", 12).await.unwrap());
        assert!(!store.claim_event("message:C0001:1.2", 13).await.unwrap());
    }
}

#[tokio::test]
async fn old_event_claims_are_forgotten_and_can_be_claimed_again() {
    for (store, _dir, _) in backends().await {
        assert!(store.claim_event("event:old", 100).await.unwrap());
        assert!(store.claim_event("event:new", 200).await.unwrap());
        assert_eq!(store.forget_events_before(150).await.unwrap(), 1);
        assert!(store.claim_event("event:old", 300).await.unwrap());
        assert!(!store.claim_event("event:new", 300).await.unwrap());
    }
}

#[tokio::test]
async fn a_requesters_recent_requests_are_listed_oldest_first_in_any_state() {
    for (store, _dir, _) in backends().await {
        let made = |id: &str, requester: &str, created_at: i64, state: State| NewRequest {
            requester: requester.parse().unwrap(),
            created_at,
            state,
            dry_run: state == State::DryRun,
            ..request(id)
        };
        for r in [
            made("R-00000001", "U0001", 1_000, State::PendingApproval),
            made("R-00000003", "U0001", 5_000, State::DryRun),
            made("R-00000002", "U0001", 3_000, State::PendingApproval),
            made("R-00000004", "U0002", 4_000, State::PendingApproval),
        ] {
            store.create_request(&r, &[]).await.unwrap();
        }
        let denied = Decision {
            decision: DecisionKind::Denied,
            actor: "U0002".parse().unwrap(),
            decided_at: 3_500,
        };
        let moved = store
            .transition(
                "R-00000002",
                State::PendingApproval,
                State::Denied,
                Some(&denied),
                3_500,
            )
            .await
            .unwrap();
        assert!(moved);
        let ids =
            |rs: Vec<RequestRecord>| rs.into_iter().map(|r| r.id.to_string()).collect::<Vec<_>>();
        // `since` is exclusive: a request made exactly then has left the window.
        let recent = store.requests_by_since("U0001", 1_000).await.unwrap();
        assert_eq!(recent[0].state, State::Denied);
        assert_eq!((recent[0].reset_count, recent[1].dry_run), (2, true));
        assert_eq!(ids(recent), ["R-00000002", "R-00000003"]);
        assert_eq!(
            ids(store.requests_by_since("U0001", 999).await.unwrap()),
            ["R-00000001", "R-00000002", "R-00000003"]
        );
        assert_eq!(
            ids(store.requests_by_since("U0002", 0).await.unwrap()),
            ["R-00000004"]
        );
        assert!(store
            .requests_by_since("U0009", 0)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn an_exclusive_section_has_one_holder_at_a_time_across_replicas() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for (store, _dir, url) in backends().await {
        // Two replicas: on PostgreSQL a second store on the same schema (its own pool); SQLite
        // serves one process, so its replicas are tasks sharing the store.
        let other = if url.starts_with("postgres") {
            open(&url).await.unwrap()
        } else {
            store.clone()
        };
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let s = if i % 2 == 0 {
                store.clone()
            } else {
                other.clone()
            };
            let (inside, most) = (inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    let held = s.exclusive("limits").await.unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(held);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "{url}: two holders at once");
        if url.starts_with("postgres") {
            // Another section's name is not held by this one.
            let a = store.exclusive("limits").await.unwrap();
            let b = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                other.exclusive("something else"),
            )
            .await;
            assert!(b.is_ok(), "sections are separate");
            drop(b);
            drop(a);
        }
    }
}

mod audit_fail_closed;
mod audit_seal;
mod corrupt;
mod lookups;
mod notices;
mod sign_offs;
mod step_ups;
