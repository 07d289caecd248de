//! Fail closed (issue 13, point 5): a change people make is stored only with its audit event.
//! With the audit table refusing inserts, every audited change fails and changes nothing.

use super::*;

/// Makes every insert into `audit_events` fail, behind the adapter's back.
async fn refuse_audit_inserts(url: &str) {
    if url.starts_with("sqlite:") {
        raw_sql(
            url,
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit down'); END",
        )
        .await;
    } else {
        raw_sql(
            url,
            "CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'audit down'; END $$ LANGUAGE plpgsql",
        )
        .await;
        raw_sql(
            url,
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events \
             FOR EACH ROW EXECUTE FUNCTION audit_down()",
        )
        .await;
    }
}

fn noted(action: &str) -> AuditEvent {
    audit_event(5, Some("R-00000001"), action)
}

#[tokio::test]
async fn no_decision_approval_cancel_or_continue_is_stored_without_its_audit_event() {
    for (store, _dir, url) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        refuse_audit_inserts(&url).await;
        let approval = Decision {
            decision: DecisionKind::Approved,
            actor: "U0002".parse().unwrap(),
            decided_at: 10,
        };
        let approved = store
            .transition_audited(
                id,
                State::PendingApproval,
                State::Approved,
                Some(&approval),
                10,
                &noted("approved"),
            )
            .await;
        assert!(approved.is_err(), "{url}");
        let event = |_: usize| noted("approval_recorded");
        assert!(store.add_approval(id, "U0002", 10, &event).await.is_err());
        assert!(store
            .cancel(id, State::PendingApproval, "U0001", 10, &noted("cancelled"))
            .await
            .is_err());
        let r = store.get_request(id).await.unwrap().unwrap();
        assert_eq!(
            (r.state, r.decision, r.cancelled_by),
            (State::PendingApproval, None, None)
        );
        assert!(store.sign_offs(id).await.unwrap().is_empty());
        // A paused run stays paused.
        for (from, to) in [
            (State::PendingApproval, State::Approved),
            (State::Approved, State::Running),
            (State::Running, State::Paused),
        ] {
            assert!(store.transition(id, from, to, None, 20).await.unwrap());
        }
        assert!(store
            .continue_run(id, "U0003", 30, &noted("run_continued"))
            .await
            .is_err());
        assert_eq!(
            store.get_request(id).await.unwrap().unwrap().state,
            State::Paused
        );
        assert!(store.sign_offs(id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_audited_change_and_its_event_are_stored_together() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        assert!(store
            .transition_audited(
                id,
                State::PendingApproval,
                State::Denied,
                None,
                10,
                &noted("denied")
            )
            .await
            .unwrap());
        // Lost race: no change, and no event claiming one.
        assert!(!store
            .transition_audited(
                id,
                State::PendingApproval,
                State::Approved,
                None,
                11,
                &noted("approved")
            )
            .await
            .unwrap());
        let actions: Vec<String> = store
            .audit_events(Some(id))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, vec!["denied"]);
    }
}
