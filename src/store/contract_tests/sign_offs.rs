//! The contract for sign-offs: approvals counted once per approver and only while pending, and a
//! paused run continued once. Run on both backends like the rest of the suite.

use super::*;

/// The audit event written with a sign-off or a cancel.
fn note(action: &str) -> AuditEvent {
    AuditEvent {
        at: 1,
        request_id: Some("R-00000001".into()),
        actor: None,
        action: action.into(),
        detail: serde_json::json!({}),
    }
}

fn approval_event(have: usize) -> AuditEvent {
    let mut e = note("approval_recorded");
    e.detail = serde_json::json!({ "approvals": have });
    e
}

#[tokio::test]
async fn approvals_count_each_approver_once_and_only_while_pending() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        assert_eq!(
            store
                .add_approval(id, "U0002", 1_100, &approval_event)
                .await
                .unwrap(),
            ApprovalAdded::Added(vec!["U0002".into()])
        );
        assert_eq!(
            store
                .add_approval(id, "U0002", 1_200, &approval_event)
                .await
                .unwrap(),
            ApprovalAdded::AlreadyApproved
        );
        assert_eq!(
            store
                .add_approval(id, "U0003", 1_300, &approval_event)
                .await
                .unwrap(),
            ApprovalAdded::Added(vec!["U0002".into(), "U0003".into()])
        );
        assert!(store
            .transition(id, State::PendingApproval, State::Denied, None, 1_400)
            .await
            .unwrap());
        assert_eq!(
            store
                .add_approval(id, "U0004", 1_500, &approval_event)
                .await
                .unwrap(),
            ApprovalAdded::NotPending
        );
        assert_eq!(
            store
                .add_approval("R-NOPE0000", "U0004", 1_500, &approval_event)
                .await
                .unwrap(),
            ApprovalAdded::NotPending
        );
        let s = store.sign_offs(id).await.unwrap();
        assert_eq!(
            s,
            vec![
                SignOff {
                    kind: SignOffKind::Approve,
                    actor: "U0002".parse().unwrap(),
                    at: 1_100
                },
                SignOff {
                    kind: SignOffKind::Approve,
                    actor: "U0003".parse().unwrap(),
                    at: 1_300
                },
            ]
        );
    }
}

#[tokio::test]
async fn one_approver_racing_themself_is_recorded_once() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let (a, b) = tokio::join!(
            store.add_approval("R-00000001", "U0002", 1_100, &approval_event),
            store.add_approval("R-00000001", "U0002", 1_100, &approval_event),
        );
        let results = [a.unwrap(), b.unwrap()];
        assert_eq!(
            results
                .iter()
                .filter(|r| matches!(r, ApprovalAdded::Added(_)))
                .count(),
            1,
            "{results:?}"
        );
        assert!(results.contains(&ApprovalAdded::AlreadyApproved));
        assert_eq!(store.sign_offs("R-00000001").await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_paused_run_is_continued_once_and_the_continue_recorded() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        assert!(!store
            .continue_run(id, "U0003", 1_100, &note("run_continued"))
            .await
            .unwrap());
        for (from, to) in [
            (State::PendingApproval, State::Approved),
            (State::Approved, State::Running),
            (State::Running, State::Paused),
        ] {
            assert!(store.transition(id, from, to, None, 1_050).await.unwrap());
        }
        // A paused run is nobody's to run: no lease, not taken over.
        assert!(!store.claim_run(id, "a", 1_060, 9_999).await.unwrap());
        assert!(store.runs_without_holder(1_060).await.unwrap().is_empty());
        let noted = note("run_continued");
        let (a, b) = tokio::join!(
            store.continue_run(id, "U0003", 1_100, &noted),
            store.continue_run(id, "U0002", 1_100, &noted),
        );
        assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|x| **x).count(), 1);
        let r = store.get_request(id).await.unwrap().unwrap();
        assert_eq!(r.state, State::Approved);
        assert_eq!(r.started_at, Some(1_050), "the run keeps its start time");
        let s = store.sign_offs(id).await.unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, SignOffKind::Continue);
        assert_eq!(store.runs_without_holder(1_200).await.unwrap(), vec![id]);
    }
}

#[tokio::test]
async fn a_cancel_records_who_cancelled_apart_from_the_decision() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        let approval = Decision {
            decision: DecisionKind::Approved,
            actor: "U0002".parse().unwrap(),
            decided_at: 1_100,
        };
        assert!(store
            .transition(
                id,
                State::PendingApproval,
                State::Approved,
                Some(&approval),
                1_100
            )
            .await
            .unwrap());
        // From a state it is no longer in: nothing.
        assert!(!store
            .cancel(
                id,
                State::PendingApproval,
                "U0001",
                1_150,
                &note("cancelled")
            )
            .await
            .unwrap());
        assert!(store
            .cancel(id, State::Approved, "U0001", 1_200, &note("cancelled"))
            .await
            .unwrap());
        let r = store.get_request(id).await.unwrap().unwrap();
        assert_eq!(r.state, State::Cancelled);
        assert_eq!(
            (r.cancelled_by.as_ref().map(|u| u.as_str()), r.cancelled_at),
            (Some("U0001"), Some(1_200))
        );
        assert_eq!(r.finished_at, Some(1_200));
        assert_eq!(
            r.decision,
            Some(approval),
            "the approval stays the decision"
        );
        assert!(!store
            .cancel(id, State::Approved, "U0003", 1_300, &note("cancelled"))
            .await
            .unwrap());
        let r = store.get_request(id).await.unwrap().unwrap();
        assert_eq!(
            r.cancelled_by.as_ref().map(|u| u.as_str()),
            Some("U0001"),
            "the first cancel stays"
        );

        // Cancelled while pending: the cancel is also the decision.
        store
            .create_request(&request("R-00000002"), &[target("u1", "reset")])
            .await
            .unwrap();
        assert!(store
            .cancel(
                "R-00000002",
                State::PendingApproval,
                "U0003",
                1_400,
                &note("cancelled")
            )
            .await
            .unwrap());
        let r = store.get_request("R-00000002").await.unwrap().unwrap();
        assert_eq!(r.cancelled_by.as_ref().map(|u| u.as_str()), Some("U0003"));
        let d = r.decision.unwrap();
        assert_eq!(
            (d.decision.code(), d.actor.as_str(), d.decided_at),
            ("cancelled", "U0003", 1_400)
        );
    }
}

#[tokio::test]
async fn the_message_carrying_continue_is_stored() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        assert_eq!(
            store
                .get_request("R-00000001")
                .await
                .unwrap()
                .unwrap()
                .continue_ts,
            None
        );
        store
            .set_continue_ts("R-00000001", "171.0002")
            .await
            .unwrap();
        let r = store.get_request("R-00000001").await.unwrap().unwrap();
        assert_eq!(r.continue_ts.as_deref(), Some("171.0002"));
    }
}
