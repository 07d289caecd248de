//! The record of a request: audit events for every step, the results file and the full target
//! list uploaded into the thread (read back from the Slack simulator), the System Log link, and
//! every state change told in the thread with who and when.

use okta_reset::audit::{verify, Verdict};
use okta_reset::clock::parse_time;
use okta_reset::domain::request::State;
use okta_reset::sim::okta::{SimGroup, SimOrg, SimUser};
use okta_reset::sim::slack::SimUpload;
use okta_reset::store::AuditEvent;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

/// The request's events once `action` is among them (the bot writes some after Slack answers).
async fn wait_event(app: &TestApp, id: &str, action: &str) -> Vec<AuditEvent> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = app.audit_events(id).await;
        if ev.iter().any(|e| e.action == action) {
            return ev;
        }
        assert!(tokio::time::Instant::now() < deadline, "no {action} event");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn upload_named(app: &TestApp, suffix: &str) -> Option<SimUpload> {
    app.w
        .slack
        .uploads()
        .into_iter()
        .find(|u| u.completed && u.filename.ends_with(suffix))
}

#[tokio::test]
async fn every_step_is_an_audit_event_in_an_intact_chain() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    let ev = wait_event(&app, &p.id, "summary_posted").await;
    let received = ev.iter().find(|e| e.action == "request_received").unwrap();
    assert_eq!(received.actor.as_deref(), Some(REQUESTER));
    assert_eq!(received.detail["text"], ASK, "the raw command text");
    assert_eq!(received.detail["channel"], "C0001");
    let resolved = ev.iter().find(|e| e.action == "targets_resolved").unwrap();
    assert_eq!(resolved.detail["resolved"], 40);
    assert_eq!(resolved.detail["to_reset"], 28);
    assert_eq!(resolved.detail["by_classification"]["skip_directory"], 4);
    assert_eq!(
        resolved.detail["digest"].as_str().unwrap(),
        app.record(&p.id).await.digest
    );
    let approved = ev.iter().find(|e| e.action == "approved").unwrap();
    assert_eq!(approved.actor.as_deref(), Some(APPROVER));
    let outcomes: Vec<&AuditEvent> = ev.iter().filter(|e| e.action == "user_outcome").collect();
    assert_eq!(outcomes.len(), 28);
    let calls = app.w.okta.reset_calls();
    for o in &outcomes {
        let call = calls
            .iter()
            .find(|c| c.user_id == o.detail["okta_id"].as_str().unwrap())
            .expect("an Okta call for each outcome");
        assert_eq!(o.detail["okta_request_id"], call.request_id.as_str());
    }
    let order: Vec<&str> = ev.iter().map(|e| e.action.as_str()).collect();
    let pos = |a: &str| {
        order
            .iter()
            .position(|x| *x == a)
            .unwrap_or_else(|| panic!("no {a}: {order:?}"))
    };
    assert!(pos("request_received") < pos("targets_resolved"));
    assert!(pos("targets_resolved") < pos("approval_posted"));
    assert!(pos("approval_posted") < pos("target_list_attached"));
    assert!(pos("approved") < pos("run_started"));
    assert!(pos("run_started") < pos("run_finished"));
    assert!(pos("run_finished") < pos("results_file_attached"));
    assert!(pos("results_file_attached") < pos("summary_posted"));
    let finished = &ev[pos("run_finished")];
    assert_eq!(finished.detail["state"], "completed");
    assert_eq!(finished.detail["counts"]["reset"], 28);
    let Verdict::Intact(i) = verify(app.w.app.service.store.as_ref()).await.unwrap() else {
        panic!("chain broken")
    };
    assert!(
        i.events as usize > ev.len(),
        "policy_loaded is in the chain too"
    );
}

#[tokio::test]
async fn a_refused_request_is_on_record_with_its_text() {
    let app = spawn().await;
    let text = r#"group:contractors reason:"sneaky""#;
    let msg = app.slash(OUTSIDER, text).await;
    assert!(msg.contains("not on the list"), "{msg}");
    let all = app.w.app.service.store.audit_events(None).await.unwrap();
    let refused = all
        .iter()
        .find(|e| e.action == "request_refused")
        .expect("the refusal is on record");
    assert_eq!(refused.actor.as_deref(), Some(OUTSIDER));
    assert_eq!(refused.detail["text"], text, "with exactly what was typed");
    assert_eq!(refused.detail["channel"], "C0001");
    assert!(refused.request_id.is_none(), "no request was made");
    assert!(all.iter().all(|e| e.action != "request_received"));
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn the_policy_at_start_up_is_recorded_and_a_change_shows() {
    let app = spawn().await;
    let store = app.w.app.service.store.clone();
    let first = store.last_audit("policy_loaded").await.unwrap().unwrap();
    let d = &first.event.detail;
    assert_eq!(
        d["policy"]["approvers"],
        serde_json::json!([APPROVER, APPROVER_2])
    );
    assert_eq!(d["policy"]["max_targets"], 1000);
    assert_eq!(d["changed"], false);
    assert_eq!(d["digest"].as_str().unwrap().len(), 64);
    // Same store, new policy: restart with another limit.
    let TestApp { mut w, clock } = app;
    w.config.policy.max_targets = 50;
    let w = w.restart_app().await.unwrap();
    let again = w
        .app
        .service
        .store
        .last_audit("policy_loaded")
        .await
        .unwrap()
        .unwrap();
    let d2 = &again.event.detail;
    assert_eq!(d2["changed"], true);
    assert_eq!(d2["previous_digest"], d["digest"]);
    assert_ne!(d2["digest"], d["digest"]);
    assert_eq!(d2["policy"]["max_targets"], 50);
    drop(clock);
}

#[tokio::test]
async fn the_results_file_is_uploaded_into_the_thread_with_one_row_per_target() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains(&format!(
            "📎 Results file `okta-reset-{}-results.csv` is attached in this thread.",
            p.id
        )),
        "{summary}"
    );
    let file = upload_named(&app, "-results.csv").expect("results uploaded");
    assert_eq!(file.filename, format!("okta-reset-{}-results.csv", p.id));
    assert_eq!(file.channel.as_deref(), Some("C0001"));
    assert_eq!(
        file.thread_ts.as_deref(),
        Some(p.ts.as_str()),
        "in the request's thread"
    );
    let text = file.text();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rows.headers().unwrap(),
        vec![
            "okta_id",
            "login",
            "email",
            "outcome",
            "reason",
            "okta_request_id",
            "time",
            "sessions_ended",
            "notified",
            "confirmed_in_system_log"
        ]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 40, "every resolved target");
    let calls = app.w.okta.reset_calls();
    for row in &rows {
        match &row[3] {
            "reset" => {
                let call = calls.iter().find(|c| c.user_id == row[0]).unwrap();
                assert_eq!(&row[5], call.request_id.as_str(), "Okta's request id");
                assert!(parse_time(&row[6]).is_some(), "time {}", &row[6]);
                assert_eq!(&row[7], "", "nobody is told without policy.notify_users");
                assert_eq!(&row[9], "yes", "in Okta's System Log");
            }
            "skipped" => {
                assert!(!row[4].is_empty(), "a skipped user says why");
                assert!(calls.iter().all(|c| c.user_id != row[0]));
            }
            other => panic!("unexpected outcome {other}"),
        }
    }
    assert_eq!(rows.iter().filter(|r| &r[3] == "reset").count(), 28);
    // The file's share message is a reply in the same thread, before the summary.
    let thread = app.thread(&p);
    let share = thread
        .iter()
        .position(|m| Some(&m.ts) == file.message_ts.as_ref())
        .unwrap();
    let sum = thread
        .iter()
        .position(|m| m.text.contains("Run complete"))
        .unwrap();
    assert!(share < sum);
}

#[tokio::test]
async fn the_full_target_list_is_attached_to_the_approval_when_the_preview_is_partial() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.w
        .slack
        .wait_for("the target list", WAIT, |s| {
            s.uploads().iter().any(|u| u.completed)
        })
        .await
        .unwrap();
    let file = upload_named(&app, "-targets.csv").unwrap();
    assert_eq!(file.thread_ts.as_deref(), Some(p.ts.as_str()));
    let text = file.text();
    assert!(
        text.starts_with("okta_id,login,email,name,status,provider,source,classification,detail\n")
    );
    assert_eq!(
        text.lines().count(),
        41,
        "all 40 targets, not the preview's 10"
    );
    assert!(text.contains("c31.owens@contractors.example.com"));
    assert!(app.root_text(&p).contains("…and 18 more"));
    // A small request fits in the preview: nothing is attached.
    let small = spawn().await;
    small
        .request(r#"user:c05.park@contractors.example.com reason:"INC-2""#)
        .await;
    small.settle().await;
    assert!(small.w.slack.uploads().is_empty());
}

fn formula_org() -> SimOrg {
    let evil = SimUser::new(
        "=HYPERLINK(\"http://evil\",\"x\")@example.com",
        "@SUM(A1)",
        "Evil",
    )
    .email("+cmd@example.com");
    let dash = SimUser::new("-2+3@example.com", "Dash", "Minus");
    let group = SimGroup::new("formulas").member(&evil.id).member(&dash.id);
    SimOrg::demo().user(evil).user(dash).group(group)
}

#[tokio::test]
async fn cells_a_spreadsheet_would_execute_are_neutralised_in_the_results_file() {
    let app = spawn_with().org(formula_org()).start().await;
    let p = app.request(r#"group:formulas reason:"INC-9""#).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    let text = upload_named(&app, "-results.csv").unwrap().text();
    assert!(
        text.contains(
            ",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")@example.com\",'+cmd@example.com,reset,"
        ),
        "{text}"
    );
    assert!(
        text.contains(",'-2+3@example.com,'-2+3@example.com,reset,"),
        "{text}"
    );
    for line in text.lines().skip(1) {
        for cell in csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
        {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "executable cell {cell:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_summary_links_to_the_system_log_for_the_runs_window() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    let r = app.wait_state(&p.id, State::Completed).await;
    let start = r.started_at.unwrap();
    let end = r.finished_at.unwrap();
    let at = summary.find("<http").expect("a link") + 1;
    let url = &summary[at..at + summary[at..].find('|').unwrap()];
    let url = url::Url::parse(&url.replace("&amp;", "&")).unwrap();
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        format!("{}/report/system_log_2", app.w.okta.base_url())
    );
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["search"], "eventType eq \"user.account.reset_password\"");
    let from = parse_time(&q["fromTime"]).unwrap();
    let to = parse_time(&q["toTime"]).unwrap();
    assert!(
        from <= start - 60_000 && start - from < 120_000,
        "{from} vs {start}"
    );
    assert!(to >= end + 60_000 && to - end < 120_000, "{to} vs {end}");
    assert!(summary.contains("|Okta System Log>"), "{summary}");
}

#[tokio::test]
async fn a_refused_results_upload_still_posts_the_summary_and_says_so() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.w
        .slack
        .wait_for("the target list", WAIT, |s| {
            s.uploads().iter().any(|u| u.completed)
        })
        .await
        .unwrap();
    app.w
        .slack
        .fail_next("files.completeUploadExternal", 1, "not_in_channel");
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains(&format!(
            "⚠️ The results file could not be attached (files.completeUploadExternal: `not_in_channel`). The same record is in the bot's audit log: `okta-reset audit export --request {}`.",
            p.id
        )),
        "{summary}"
    );
    assert!(summary.contains("*28 reset*"), "{summary}");
    assert!(upload_named(&app, "-results.csv").is_none());
    app.wait_state(&p.id, State::Completed).await;
    let ev = wait_event(&app, &p.id, "summary_posted").await;
    let why = ev
        .iter()
        .find(|e| e.action == "results_file_not_attached")
        .unwrap();
    assert_eq!(
        why.detail["why"],
        "files.completeUploadExternal failed: not_in_channel"
    );
}

#[tokio::test]
async fn a_refused_target_list_upload_is_told_in_the_thread_before_anyone_approves() {
    let app = spawn().await;
    app.w.slack.fail_next_upload_posts(1);
    let p = app.request(ASK).await;
    let warning = app.wait_thread(&p, "could not be attached").await;
    assert!(
        warning.starts_with("⚠️ The full list of 40 user(s) could not be attached (upload: `HTTP 500`). The message above lists only the first 10 of each kind"),
        "{warning}"
    );
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn every_state_change_is_told_in_the_thread_with_who_and_when() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let root = app.root_text(&p);
    assert!(root.contains("*Requested by* <@U0001> <!date^"), "{root}");
    app.click(APPROVER, &p, "approve").await;
    let approved = app.wait_thread(&p, "Approved by").await;
    assert!(
        approved.starts_with("✅ Approved by <@U0002> <!date^"),
        "{approved}"
    );
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains(", ended <!date^"), "{summary}");
    // Expiry is told in the thread too, not only by editing the root.
    let slow = spawn_with().manual_clock().start().await;
    let q = slow.request(ASK).await;
    slow.clock.as_ref().unwrap().advance_secs(31 * 60);
    slow.w.app.service.expire_due().await;
    let expired = slow.wait_thread(&q, "make a new request").await;
    assert!(expired.starts_with("⌛ Expired <!date^"), "{expired}");
    assert!(expired.contains("Nothing was reset"), "{expired}");
}
