//! A coded column holding a word its enum does not name (written past the bot, or by a newer
//! version) is reported as `StoreError::Corrupt` where it is read, on both backends — never
//! handed on to be compared and silently mismatch.

use super::*;

fn corrupt<T: std::fmt::Debug>(read: StoreResult<T>, what: &str) {
    match read {
        Err(StoreError::Corrupt(m)) => assert_eq!(m, what),
        other => panic!("expected the store to report `{what}` as corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_stored_word_is_reported_as_corrupt() {
    for (store, _dir, url) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        let one =
            |set: &str| format!("UPDATE targets SET {set} WHERE request_id = '{id}' AND seq = 0");

        raw_sql(&url, &one("outcome = 'done'")).await;
        corrupt(store.targets(id).await, "unknown outcome `done`");
        corrupt(store.outcome_counts(id).await, "unknown outcome `done`");
        raw_sql(
            &url,
            &one("outcome = 'pending', classification = 'skip_other'"),
        )
        .await;
        corrupt(
            store.targets(id).await,
            "unknown classification `skip_other`",
        );
        raw_sql(&url, &one("classification = 'reset', sessions = 'partly'")).await;
        corrupt(store.targets(id).await, "unknown sessions state `partly`");
        raw_sql(&url, &one("sessions = NULL")).await;
        assert_eq!(store.targets(id).await.unwrap().len(), 3, "readable again");

        raw_sql(
            &url,
            &format!("INSERT INTO decisions (request_id, decision, actor, decided_at) VALUES ('{id}', 'approve', 'U0002', 5)"),
        )
        .await;
        corrupt(store.get_request(id).await, "unknown decision `approve`");
        raw_sql(
            &url,
            &format!("UPDATE decisions SET decision = 'approved' WHERE request_id = '{id}'"),
        )
        .await;
        raw_sql(
            &url,
            &format!("UPDATE requests SET state = 'on_hold' WHERE id = '{id}'"),
        )
        .await;
        corrupt(
            store.get_request(id).await,
            "unknown request state `on_hold`",
        );

        raw_sql(
            &url,
            &format!("INSERT INTO sign_offs (request_id, kind, actor, at) VALUES ('{id}', 'veto', 'U0003', 6)"),
        )
        .await;
        corrupt(store.sign_offs(id).await, "unknown sign-off kind `veto`");

        assert!(store.claim_notice(id, 0, 7).await.unwrap());
        raw_sql(
            &url,
            &format!("UPDATE notices SET state = 'delivered' WHERE request_id = '{id}'"),
        )
        .await;
        corrupt(store.notices(id).await, "unknown notice state `delivered`");

        let s = super::step_ups::step_up("t1", "U0002", StepUpState::Issued);
        assert!(store.create_step_up(&s, true, 1_100).await.unwrap());
        raw_sql(
            &url,
            "UPDATE step_ups SET state = 'lost' WHERE token_hash = 't1'",
        )
        .await;
        corrupt(store.step_ups(id).await, "unknown step-up state `lost`");
        raw_sql(
            &url,
            "UPDATE step_ups SET state = 'issued', kind = 'deny' WHERE token_hash = 't1'",
        )
        .await;
        corrupt(store.step_ups(id).await, "unknown sign-off kind `deny`");
    }
}

/// The same for an id column: a stored request whose requester (or canceller, decider, signer)
/// is not a Slack user id, or a step-up whose channel is not a channel id, cannot be read back,
/// since records hold the domain's id types.
#[tokio::test]
async fn a_stored_id_of_the_wrong_shape_is_reported_as_corrupt() {
    for (store, _dir, url) in backends().await {
        seeded(&store).await;
        let id = "R-00000001";
        raw_sql(
            &url,
            &format!("UPDATE requests SET requester = 'u1' WHERE id = '{id}'"),
        )
        .await;
        corrupt(
            store.get_request(id).await,
            "`u1` is not a Slack user id (expected U or W followed by 2-20 capital letters/digits, e.g. U0123ABCD)",
        );
        corrupt(
            store.requests_by_since("u1", 0).await,
            "`u1` is not a Slack user id (expected U or W followed by 2-20 capital letters/digits, e.g. U0123ABCD)",
        );
        raw_sql(
            &url,
            &format!("UPDATE requests SET requester = 'U0001' WHERE id = '{id}'"),
        )
        .await;
        assert_eq!(
            store
                .get_request(id)
                .await
                .unwrap()
                .unwrap()
                .requester
                .as_str(),
            "U0001",
            "readable again"
        );

        raw_sql(
            &url,
            &format!("UPDATE requests SET cancelled_by = 'nobody' WHERE id = '{id}'"),
        )
        .await;
        corrupt(
            store.get_request(id).await,
            "`nobody` is not a Slack user id (expected U or W followed by 2-20 capital letters/digits, e.g. U0123ABCD)",
        );
        raw_sql(
            &url,
            &format!("UPDATE requests SET cancelled_by = NULL WHERE id = '{id}'"),
        )
        .await;

        let s = super::step_ups::step_up("t1", "U0002", StepUpState::Issued);
        assert!(store.create_step_up(&s, true, 1_100).await.unwrap());
        raw_sql(
            &url,
            "UPDATE step_ups SET channel_id = 'general' WHERE token_hash = 't1'",
        )
        .await;
        corrupt(
            store.step_ups(id).await,
            "`general` is not a Slack channel id (expected C, G or D followed by 2-20 capital letters/digits, e.g. C0123ABCD)",
        );

        // Who decided and who signed off are Slack users too.
        raw_sql(
            &url,
            &format!("INSERT INTO decisions (request_id, decision, actor, decided_at) VALUES ('{id}', 'approved', 'system', 5)"),
        )
        .await;
        corrupt(
            store.get_request(id).await,
            "`system` is not a Slack user id (expected U or W followed by 2-20 capital letters/digits, e.g. U0123ABCD)",
        );
        raw_sql(
            &url,
            &format!("INSERT INTO sign_offs (request_id, kind, actor, at) VALUES ('{id}', 'approve', 'system', 6)"),
        )
        .await;
        corrupt(
            store.sign_offs(id).await,
            "`system` is not a Slack user id (expected U or W followed by 2-20 capital letters/digits, e.g. U0123ABCD)",
        );
    }
}
