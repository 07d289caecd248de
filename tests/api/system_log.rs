//! Point 3 of issue 16: the run proven in Okta's System Log — the results file's
//! `confirmed_in_system_log` column, the summary's line, the lagging log looked at again and the
//! summary edited once, and a 403 said once in plain words.

use std::time::Duration;

use okta_reset::sim::okta::system_log::RESET_EVENT;
use okta_reset::sim::slack::SimMessage;
use okta_reset::store::AuditEvent;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

fn results_column(app: &TestApp) -> Vec<(String, String, String)> {
    let file = app
        .w
        .slack
        .uploads()
        .into_iter()
        .find(|u| u.completed && u.filename.ends_with("-results.csv"))
        .expect("results uploaded");
    let text = file.text();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    // The last column (after sessions_ended and notified).
    assert_eq!(&rows.headers().unwrap()[9], "confirmed_in_system_log");
    rows.records()
        .map(Result::unwrap)
        .map(|r| (r[0].to_string(), r[3].to_string(), r[9].to_string()))
        .collect()
}

fn summary(app: &TestApp, p: &Posted) -> SimMessage {
    app.thread(p)
        .into_iter()
        .find(|m| m.text.contains("Run complete"))
        .unwrap()
}

async fn events_until(
    app: &TestApp,
    id: &str,
    done: impl Fn(&[AuditEvent]) -> bool,
) -> Vec<AuditEvent> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = app.audit_events(id).await;
        if done(&ev) {
            return ev;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited in vain: {ev:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn count(ev: &[AuditEvent], action: &str) -> usize {
    ev.iter().filter(|e| e.action == action).count()
}

#[tokio::test]
async fn the_system_log_confirms_every_reset_of_the_run_in_the_file_and_the_summary() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let text = app.wait_thread(&p, "Run complete").await;
    assert!(
        text.contains("Okta's System Log confirms 28 of 28 resets."),
        "{text}"
    );
    let rows = results_column(&app);
    for (_, outcome, confirmed) in &rows {
        let want = if outcome == "reset" { "yes" } else { "" };
        assert_eq!(confirmed, want, "{outcome}");
    }
    assert_eq!(rows.iter().filter(|r| r.2 == "yes").count(), 28);
    let ev = events_until(&app, &p.id, |e| count(e, "summary_posted") == 1).await;
    let checked: Vec<&AuditEvent> = ev
        .iter()
        .filter(|e| e.action == "system_log_checked")
        .collect();
    assert_eq!(checked.len(), 1, "all found at once: no second look");
    assert_eq!(checked[0].detail["read"], "ok");
    assert_eq!(checked[0].detail["confirmed"].as_array().unwrap().len(), 28);
    assert_eq!(checked[0].detail["final"], true);
    // The read named the request in its User-Agent, as every call of the run does.
    assert!(app.w.okta.user_agents().iter().all(|ua| !ua.is_empty()));
}

#[tokio::test]
async fn a_lagging_log_is_read_again_and_the_summary_edited_once_when_it_catches_up() {
    let app = spawn_with()
        .config(|c| c.okta.system_log_wait_secs = 8)
        .start()
        .await;
    app.w.okta.set_log_lag(Duration::from_secs(3600));
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let first = app.wait_thread(&p, "Run complete").await;
    assert!(
        first.contains("Okta's System Log confirms 0 of 28 resets so far; 28 are not there yet (Okta's log can lag). The bot looks again for up to 8 seconds and updates this line."),
        "{first}"
    );
    assert!(results_column(&app)
        .iter()
        .filter(|r| r.1 == "reset")
        .all(|r| r.2 == "not yet"));
    app.w.okta.catch_up_log();
    let ev = events_until(&app, &p.id, |e| count(e, "summary_edited") == 1).await;
    let last = ev
        .iter()
        .rfind(|e| e.action == "system_log_checked")
        .unwrap();
    assert_eq!(last.detail["final"], true);
    assert_eq!(last.detail["confirmed"].as_array().unwrap().len(), 28);
    let m = summary(&app, &p);
    assert!(
        m.blocks
            .to_string()
            .contains("Okta's System Log confirms 28 of 28 resets."),
        "{}",
        m.blocks
    );
    assert_eq!(m.edits.len(), 1, "edited once");
    assert_eq!(app.thread_count(&p, "Run complete"), 1, "no second summary");
}

#[tokio::test]
async fn a_log_still_lagging_after_the_wait_is_named_and_events_of_other_callers_do_not_count() {
    let app = spawn_with()
        .config(|c| c.okta.system_log_wait_secs = 2)
        .start()
        .await;
    app.w.okta.set_log_lag(Duration::from_secs(3600));
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    // Someone else resets one of the same users in the console: not this run's proof.
    let victim = app.w.okta.reset_calls()[0].user_id.clone();
    app.w
        .okta
        .log_event(RESET_EVENT, &victim, "Mozilla/5.0 (admin console)");
    let ev = events_until(&app, &p.id, |e| count(e, "summary_edited") == 1).await;
    let checks: Vec<&AuditEvent> = ev
        .iter()
        .filter(|e| e.action == "system_log_checked")
        .collect();
    assert!(
        checks.len() > 2,
        "looked again with backoff: {}",
        checks.len()
    );
    assert!(checks
        .iter()
        .all(|c| c.detail["confirmed"].as_array().unwrap().is_empty()));
    assert_eq!(checks.last().unwrap().detail["final"], true);
    let m = summary(&app, &p);
    assert!(
        m.blocks.to_string().contains("Okta's System Log confirms 0 of 28 resets; 28 were still not there after 2 seconds. Look them up with the System Log link below before closing the incident."),
        "{}",
        m.blocks
    );
    assert_eq!(m.edits.len(), 1, "edited once");
}

#[tokio::test]
async fn a_403_from_the_system_log_is_said_once_and_the_column_reads_unknown() {
    let app = spawn_with()
        .config(|c| c.okta.system_log_wait_secs = 1)
        .start()
        .await;
    app.w.okta.forbid_log_reads();
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let text = app.wait_thread(&p, "Run complete").await;
    let said = "The bot may not read Okta's System Log (Okta answered 403: the service app lacks the `okta.logs.read` scope, or the API token's admin cannot view the log), so the results file's `confirmed_in_system_log` column reads `unknown`.";
    assert_eq!(text.matches(said).count(), 1, "{text}");
    for (_, outcome, confirmed) in results_column(&app) {
        assert_eq!(confirmed, if outcome == "reset" { "unknown" } else { "" });
    }
    // The run itself is untouched: every reset went through.
    assert_eq!(app.w.okta.reset_calls().len(), 28);
    // Not looked at again (a missing permission does not come back by itself), never edited.
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ev = app.audit_events(&p.id).await;
    assert_eq!(count(&ev, "system_log_checked"), 1);
    assert_eq!(count(&ev, "summary_edited"), 0);
    assert!(summary(&app, &p).edits.is_empty());
}
