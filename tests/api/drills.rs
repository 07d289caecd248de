//! Failure drills: Okta failing often or hanging, Slack rate-limiting edits or gone for a while.
//! Each run ends with a summary, and no user is ever reset twice.

use std::time::Duration;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

#[tokio::test]
async fn okta_answering_30_percent_5xx_still_ends_with_a_summary_and_no_double_reset() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.w.okta.set_error_rate_5xx(0.3);
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(app.w.okta.stats().server_errors > 0, "no 5xx was injected");
    app.assert_nobody_reset_twice();
    // Every eligible user ends reset or failed (with Okta's answer as the reason).
    let reset = app.w.okta.reset_calls().len();
    let failed = 28 - reset;
    assert!(
        summary.contains(&format!("*{reset} reset*, 12 skipped, {failed} failed")),
        "{summary}"
    );
}

#[tokio::test]
async fn okta_hanging_times_out_each_call_without_repeating_it() {
    let app = spawn_with().config(okta_times_out_after_1s).start().await;
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.w.okta.hang_resets(Some(Duration::from_secs(3)));
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    // Okta applied both before hanging: asked after the timeout, it shows them in RECOVERY, so
    // they count as reset and neither is sent again.
    assert!(
        summary.contains("*2 reset*, 0 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_okta_reset_each_once(2);
}

#[tokio::test]
async fn slack_429_on_chat_update_slows_progress_but_the_summary_arrives() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.w.slack.rate_limit_next("chat.update", 5, 1);
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("*28 reset*"), "{summary}");
    app.assert_nobody_reset_twice();
}

#[tokio::test]
async fn slack_down_during_a_run_gets_the_summary_when_it_returns() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    // Every post and edit fails for a while (Slack's `internal_error`): about 30 s of retries.
    app.w
        .slack
        .fail_next("chat.postMessage", 4, "internal_error");
    app.w.slack.fail_next("chat.update", 4, "internal_error");
    app.click(APPROVER, &p, "approve").await;
    // The summary once Slack is back.
    let summary = app
        .wait_thread_within(&p, "Run complete", Duration::from_secs(90))
        .await;
    assert!(summary.contains("*28 reset*"), "{summary}");
    app.assert_okta_reset_each_once(28);
    app.wait_summary_stored(&p.id).await;
}

#[tokio::test]
async fn a_slack_outage_longer_than_the_runs_retries_still_gets_the_summary_posted_once() {
    // A short lease, so the sweep that picks up held-back summaries comes every second.
    let app = spawn_with()
        .config(|c| c.store.lease_secs = 2)
        .start()
        .await;
    let p = app.request(ASK).await;
    // Slack refuses every post for longer than the run's own summary retries (about a minute):
    // the approval note, the progress message, five summary attempts and the first sweep's.
    app.w
        .slack
        .fail_next("chat.postMessage", 8, "internal_error");
    app.click(APPROVER, &p, "approve").await;
    // The summary once Slack is back.
    let summary = app
        .wait_thread_within(&p, "Run complete", Duration::from_secs(150))
        .await;
    assert!(summary.contains("*28 reset*"), "{summary}");
    assert!(summary.contains("Posted late"), "{summary}");
    // Once, even though every sweep since the run ended could have posted it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(app.thread_count(&p, "Run complete"), 1);
    app.assert_okta_reset_each_once(28);
    app.wait_summary_stored(&p.id).await;
    let events = app.audit_events(&p.id).await;
    let finished = events.iter().filter(|e| e.action == "run_finished").count();
    let attached = events
        .iter()
        .filter(|e| e.action == "results_file_attached")
        .count();
    assert_eq!((finished, attached), (1, 1), "the end is recorded once");
    assert!(events
        .iter()
        .any(|e| e.action == "summary_posted" && e.detail["late"] == true));
}
