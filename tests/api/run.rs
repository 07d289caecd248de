//! The run against a misbehaving Okta: rate limits, 5xx, a revoked token, cancellation.

use okta_reset::store::Outcome;
use std::time::Duration;

use okta_reset::domain::request::State;
use okta_reset::sim::okta::{Bucket, BucketLimits, OktaSimConfig};

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-1""#;

fn slow(latency_ms: u64) -> OktaSimConfig {
    OktaSimConfig {
        latency: Duration::from_millis(latency_ms),
        ..OktaSimConfig::default()
    }
}

async fn wait_resets(app: &TestApp, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.w.okta.reset_calls().len() < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "fewer than {n} resets"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_revoked_token_stops_the_run_at_once_with_a_plain_message() {
    let app = spawn_with()
        .okta(slow(100))
        .config(|c| c.okta.concurrency = 2)
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    wait_resets(&app, 2).await;
    app.w.okta.revoke_token();
    let summary = app.wait_thread(&p, "Run stopped").await;
    assert!(
        summary.contains("Okta rejected the bot's credentials (E0000011)"),
        "{summary}"
    );
    assert!(summary.contains("not attempted"), "{summary}");
    let r = app.wait_state(&p.id, State::Stopped).await;
    assert!(r.stop_reason.unwrap().contains("E0000011"));
    // No user was marked failed because of the token: they are left not attempted.
    let targets = app.targets(&p.id).await;
    assert_eq!(
        targets
            .iter()
            .filter(|t| t.outcome == Outcome::Failed)
            .count(),
        0
    );
    let done = app.w.okta.reset_calls().len();
    assert!(
        done < 28,
        "the run went on after the token was revoked ({done})"
    );
    assert_eq!(
        targets
            .iter()
            .filter(|t| t.outcome == Outcome::Reset)
            .count(),
        done
    );
}

#[tokio::test]
async fn a_systemic_403_stops_the_run_too() {
    let app = spawn().await;
    app.w.okta.forbid_resets();
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run stopped").await;
    assert!(summary.contains("E0000006"), "{summary}");
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn rate_limits_are_waited_out_and_nobody_is_left_behind_or_reset_twice() {
    let app = spawn_with()
        .okta(OktaSimConfig {
            window: Duration::from_secs(2),
            limits: BucketLimits {
                users_post: 12,
                ..BucketLimits::default()
            },
            ..OktaSimConfig::default()
        })
        .start()
        .await;
    let p = app.request(ASK).await;
    // Another integration spends part of the budget: the bot must meet 429s and wait.
    app.w.okta.consume_budget(Bucket::UsersPost, 11);
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*28 reset*, 12 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_okta_reset_each_once(28);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let app = spawn().await;
    app.w.okta.fail_next_resets(3, 503);
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("*28 reset*"), "{summary}");
    assert!(app.w.okta.stats().server_errors >= 3);
}

#[tokio::test]
async fn persistent_server_errors_fail_the_user_with_the_reason_and_the_run_goes_on() {
    let app = spawn_with()
        .config(|c| {
            c.okta.max_retries = 1;
            c.okta.concurrency = 1;
        })
        .start()
        .await;
    app.w.okta.fail_next_resets(2, 500);
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*27 reset*, 12 skipped, 1 failed"),
        "{summary}"
    );
    assert!(summary.contains("Okta answered HTTP 500"), "{summary}");
}

#[tokio::test]
async fn revoke_sessions_is_passed_to_okta() {
    let app = spawn().await;
    let p = app
        .request(r#"user:c01.lee@contractors.example.com reason:"x" --revoke-sessions"#)
        .await;
    assert!(app.root_text(&p).contains("ends each user's Okta sessions"));
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].revoke_sessions && calls[0].send_email);
}

#[tokio::test]
async fn the_requester_can_cancel_during_the_run() {
    let app = spawn_with()
        .okta(slow(150))
        .config(|c| c.okta.concurrency = 1)
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    wait_resets(&app, 2).await;
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    let summary = app.wait_thread(&p, "Run cancelled").await;
    assert!(summary.contains("not attempted"), "{summary}");
    app.settle().await;
    let n = app.w.okta.reset_calls().len();
    assert!(n < 28, "{n}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.w.okta.reset_calls().len(),
        n,
        "resets went on after the cancel"
    );
}

#[tokio::test]
async fn progress_is_edited_in_the_thread_while_the_run_goes() {
    let app = spawn_with()
        .okta(slow(250))
        .config(|c| c.okta.concurrency = 2)
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    // Three calls a user (the user and their roles read again, then the reset): about 10 s.
    app.wait_thread_within(&p, "Run complete", 2 * WAIT).await;
    let progress = app
        .thread(&p)
        .into_iter()
        .find(|m| m.text.starts_with("Resetting:"))
        .expect("a progress message");
    assert!(progress.text.contains("28/28 done"), "{}", progress.text);
    // The first version, at least one tick during the run, and the final edit.
    assert!(progress.edits.len() >= 2, "{} edits", progress.edits.len());
}

#[tokio::test]
async fn a_run_interrupted_by_a_restart_resumes_without_resetting_anyone_twice() {
    let app = spawn_with()
        .okta(slow(100))
        .config(|c| c.okta.concurrency = 2)
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    wait_resets(&app, 4).await;
    let TestApp { w, clock } = app;
    let w = w.restart_app().await.unwrap();
    let app = TestApp { w, clock };
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*28 reset*, 12 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_okta_reset_each_once(28);
    app.wait_thread(&p, "This run was interrupted").await;
    let paused = app.wait_thread(&p, "The bot is shutting down").await;
    assert!(
        paused.starts_with("⏸️ The bot is shutting down <!date^"),
        "{paused}"
    );
    app.settle().await;
    assert_eq!(app.thread_count(&p, "Run complete"), 1);
}

#[tokio::test]
async fn a_summary_survives_slack_failing_for_a_moment() {
    let app = spawn().await;
    let p = app
        .request(r#"user:c01.lee@contractors.example.com reason:"x""#)
        .await;
    app.w
        .slack
        .fail_next("chat.postMessage", 2, "internal_error");
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(app.w.okta.reset_calls().len(), 1);
}

#[tokio::test]
async fn a_cancel_stored_by_another_replica_stops_this_replicas_run() {
    // A short lease, so the run's heartbeat reads the store often.
    let app = spawn_with()
        .okta(slow(150))
        .config(|c| {
            c.okta.concurrency = 1;
            c.store.lease_secs = 2;
        })
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    wait_resets(&app, 2).await;
    // Another replica took the cancel: all this replica can see of it is the store.
    let store = &app.w.app.service.store;
    assert!(store
        .transition(&p.id, State::Running, State::Cancelled, None, 1)
        .await
        .unwrap());
    let summary = app.wait_thread(&p, "Run cancelled").await;
    assert!(summary.contains("not attempted"), "{summary}");
    app.settle().await;
    let n = app.w.okta.reset_calls().len();
    assert!(n < 28, "the run went on to the end: {n}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.w.okta.reset_calls().len(),
        n,
        "resets went on after the cancel"
    );
    assert_eq!(app.record(&p.id).await.state, State::Cancelled);
}
