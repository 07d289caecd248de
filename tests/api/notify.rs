//! `policy.notify_users`: each reset person told by Slack DM after their reset, the people who
//! could not be told listed with why, and "I didn't expect this".

use okta_reset::sim::slack::{bot_dm, SimMessage, SimSlackUser};
use okta_reset::sim::world::{CHANNEL, TEAM};

use crate::helpers::*;

const LEE: &str = "U0101";
const MOSS: &str = "U0102";
const ASK: &str = r#"user:c01.lee@contractors.example.com,c02.moss@contractors.example.com reason:"INC-4312 phishing via vendor""#;

fn slack_user(id: &str, email: &str) -> SimSlackUser {
    let mut u = SimSlackUser::member(id, TEAM, id, "Someone");
    u.email = email.to_string();
    u
}

/// The bot with `policy.notify_users`, Lee in Slack (and Moss too when `moss`).
async fn app_with(moss: bool) -> TestApp {
    let app = spawn_with()
        .config(|c| c.policy.notify_users = true)
        .start()
        .await;
    app.w
        .slack
        .put_user(slack_user(LEE, "c01.lee@contractors.example.com"));
    if moss {
        // Slack compares emails case-insensitively.
        app.w
            .slack
            .put_user(slack_user(MOSS, "C02.Moss@Contractors.example.com"));
    }
    app
}

/// Requests the reset of Lee and Moss, approves it and waits for the summary.
async fn run(app: &TestApp) -> (Posted, String) {
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    (p, summary)
}

fn dms(app: &TestApp, user: &str) -> Vec<SimMessage> {
    let ch = bot_dm(user);
    app.w
        .slack
        .messages()
        .into_iter()
        .filter(|m| m.channel == ch)
        .collect()
}

fn results_csv(app: &TestApp) -> String {
    let up = app.w.slack.uploads();
    let file = up
        .iter()
        .find(|u| u.filename.ends_with("-results.csv"))
        .expect("results file");
    String::from_utf8(file.content.clone().expect("bytes")).unwrap()
}

#[tokio::test]
async fn each_reset_person_gets_one_dm_and_one_without_slack_is_listed_not_notified() {
    let app = app_with(false).await;
    let (p, summary) = run(&app).await;

    let lee = dms(&app, LEE);
    assert_eq!(lee.len(), 1, "one DM to Lee");
    let dm = format!("{} {}", lee[0].text, lee[0].blocks);
    for needed in [
        "Your Okta password was reset by IT",
        "security incident",
        &format!("<@{REQUESTER}>"),
        &format!("<@{APPROVER}>"),
        &format!("<#{CHANNEL}>"),
        "use the reset link Okta emailed you",
        "reset_unexpected",
        "I didn't expect this",
    ] {
        assert!(dm.contains(needed), "DM lacks {needed:?}: {dm}");
    }
    // Never the free-text reason, another person, or a link.
    for never in ["INC-4312", "phishing", "moss", "http", "resetPasswordUrl"] {
        assert!(
            !dm.to_lowercase().contains(&never.to_lowercase()),
            "DM has {never:?}: {dm}"
        );
    }

    assert!(summary.contains("1 notified, 1 not notified"), "{summary}");
    assert!(
        summary.contains("c02.moss@contractors.example.com — no Slack account has their email"),
        "{summary}"
    );
    let csv = results_csv(&app);
    // The `notified` column, by name: the System Log's column follows it.
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let col = rows
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "notified")
        .expect("a notified column");
    let notified: Vec<(String, String)> = rows
        .records()
        .map(Result::unwrap)
        .map(|r| (r[1].to_string(), r[col].to_string()))
        .collect();
    assert!(
        notified.contains(&("c01.lee@contractors.example.com".into(), "yes".into())),
        "{csv}"
    );
    assert!(
        notified.contains(&(
            "c02.moss@contractors.example.com".into(),
            "no: no Slack account has their email".into()
        )),
        "{csv}"
    );

    // After (never before) the reset: Lee's outcome is journalled before the DM is.
    let events = app.audit_events(&p.id).await;
    let reset_at = events
        .iter()
        .position(|e| {
            e.action == "user_outcome" && e.detail["login"] == "c01.lee@contractors.example.com"
        })
        .expect("Lee's outcome");
    let told_at = events
        .iter()
        .position(|e| e.action == "user_notified")
        .expect("user_notified");
    assert!(reset_at < told_at);
    assert_eq!(events[told_at].detail["slack_user"], LEE);
    let missed = events
        .iter()
        .find(|e| e.action == "user_not_notified")
        .expect("user_not_notified");
    assert_eq!(missed.detail["login"], "c02.moss@contractors.example.com");
}

#[tokio::test]
async fn without_the_option_nobody_is_looked_up() {
    let app = spawn().await;
    app.w
        .slack
        .put_user(slack_user(LEE, "c01.lee@contractors.example.com"));
    let (_, summary) = run(&app).await;
    assert_eq!(app.w.slack.api_calls("users.lookupByEmail"), 0);
    assert!(dms(&app, LEE).is_empty());
    assert!(!summary.contains("Told by Slack DM"), "{summary}");
}

#[tokio::test]
async fn a_rate_limited_lookup_waits_for_retry_after_and_still_tells_everyone() {
    let app = app_with(true).await;
    app.w.slack.rate_limit_next("users.lookupByEmail", 1, 1);
    let (_, summary) = run(&app).await;
    assert!(summary.contains("2 notified, 0 not notified"), "{summary}");
    assert_eq!(dms(&app, LEE).len(), 1);
    assert_eq!(dms(&app, MOSS).len(), 1);
    assert_eq!(app.w.slack.api_calls("users.lookupByEmail"), 3);
    assert_eq!(app.w.slack.retry_after_violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_deactivated_slack_user_and_a_failed_dm_are_listed_with_why() {
    let app = app_with(true).await;
    let mut lee = slack_user(LEE, "c01.lee@contractors.example.com");
    lee.deleted = true;
    app.w.slack.put_user(lee);
    // Moss is deactivated between the lookup and the DM: Slack refuses to open it.
    app.w
        .slack
        .fail_next("conversations.open", 1, "user_disabled");
    let (_, summary) = run(&app).await;
    assert!(summary.contains("0 notified, 2 not notified"), "{summary}");
    assert!(
        summary.contains("c01.lee@contractors.example.com — their Slack account is deactivated"),
        "{summary}"
    );
    assert!(
        summary.contains("c02.moss@contractors.example.com — Slack could not open a DM (")
            && summary.contains("user_disabled"),
        "{summary}"
    );
    // Nobody deactivated is written to: one conversations.open (Moss's), no DM at all.
    assert_eq!(app.w.slack.api_calls("conversations.open"), 1);
    assert!(dms(&app, LEE).is_empty() && dms(&app, MOSS).is_empty());
}

#[tokio::test]
async fn a_notice_journalled_before_a_restart_is_never_sent_again() {
    let app = app_with(true).await;
    let p = app.request(ASK).await;
    // A process died after journalling Lee's DM as being sent: its fate is unknown.
    let lee = app
        .targets(&p.id)
        .await
        .into_iter()
        .find(|t| t.target.login.as_deref() == Some("c01.lee@contractors.example.com"))
        .unwrap();
    let store = &app.w.app.service.store;
    assert!(store.claim_notice(&p.id, lee.seq, 1).await.unwrap());
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(dms(&app, LEE).is_empty(), "Lee is not DMed a second time");
    assert_eq!(dms(&app, MOSS).len(), 1);
    assert!(summary.contains("1 notified, 1 not notified"), "{summary}");
    assert!(summary.contains("delivery unknown"), "{summary}");
}

#[tokio::test]
async fn i_didnt_expect_this_is_reported_once_and_only_by_that_person() {
    let app = app_with(false).await;
    let (p, _) = run(&app).await;
    let dm = dms(&app, LEE).remove(0);
    let said = "reports they did not expect this reset";
    let click = |user: &'static str| {
        let (ch, ts, id) = (dm.channel.clone(), dm.ts.clone(), p.id.clone());
        let app = &app;
        async move {
            let r = app
                .w
                .driver
                .click(user, &ch, &ts, "reset_unexpected", &id)
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    };

    // Someone else (a forged or forwarded click): refused privately, nothing posted.
    click(OUTSIDER).await;
    app.ephemeral_to(OUTSIDER, "Only the person whose password was reset")
        .await;
    app.settle().await;
    assert_eq!(app.thread_count(&p, said), 0);

    click(LEE).await;
    let posted = app.wait_thread(&p, said).await;
    assert!(posted.contains(&format!("<@{LEE}> {said}")), "{posted}");
    app.ephemeral_to(LEE, "IT has been told").await;

    // Twice: a private "already reported", nothing posted again.
    click(LEE).await;
    app.ephemeral_to(LEE, "You already reported this reset")
        .await;
    app.settle().await;
    assert_eq!(app.thread_count(&p, said), 1);
    let actions = app.audit_actions(&p.id).await;
    assert_eq!(actions.iter().filter(|a| *a == "user_reported").count(), 1);
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "user_report_refused")
            .count(),
        1
    );
    // It changed nothing else: the request is still completed.
    assert_eq!(
        app.record(&p.id).await.state,
        okta_reset::domain::request::State::Completed
    );
}
