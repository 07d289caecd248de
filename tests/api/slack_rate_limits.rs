//! Slack's Web API rate limits: after a 429 the bot calls that method again only once its
//! `Retry-After` has passed — whichever task calls it, slack-morphism call or plain HTTP (the
//! upload POST, the file download). The simulated Slack records every call's time and each call
//! made too early (`retry_after_violations`).

use std::time::Duration;

use crate::helpers::*;
use crate::socket::share_the_rockstar_export;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

/// The first call of `method` was refused with `Retry-After: 1`; the next came at least 1 s later.
fn assert_waited(app: &TestApp, method: &str) {
    let t = app.w.slack.call_times(method);
    assert!(t.len() >= 2, "{method}: {} calls", t.len());
    assert!(
        t[1] - t[0] >= Duration::from_secs(1),
        "{method} called again {:?} after a 429 with Retry-After: 1",
        t[1] - t[0]
    );
}

#[tokio::test]
async fn every_web_api_call_of_a_request_and_its_run_waits_out_retry_after() {
    let app = spawn().await;
    let methods = [
        "users.info",
        "chat.postMessage",
        "chat.update",
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ];
    for m in methods {
        app.w.slack.rate_limit_next(m, 1, 1);
    }
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("*28 reset*"), "{summary}");
    app.w
        .slack
        .wait_for("the results file", WAIT, |s| {
            s.uploads().iter().filter(|u| u.completed).count() >= 2
        })
        .await
        .unwrap();
    for m in methods {
        assert_waited(&app, m);
    }
    assert_eq!(app.w.slack.retry_after_violations(), Vec::<String>::new());
    app.assert_okta_reset_each_once(28);
}

#[tokio::test]
async fn a_shared_file_is_looked_up_and_downloaded_after_retry_after() {
    let app = spawn().await;
    app.w.slack.rate_limit_next("files.info", 1, 1);
    app.w.slack.rate_limit_next("download", 1, 1);
    share_the_rockstar_export(&app).await;
    assert_waited(&app, "files.info");
    assert_waited(&app, "download");
    assert_eq!(app.w.slack.retry_after_violations(), Vec::<String>::new());
}

#[tokio::test]
async fn the_form_opens_after_a_short_retry_after_and_not_past_its_trigger() {
    let app = spawn().await;
    app.w.slack.rate_limit_next("views.open", 1, 1);
    let view = app.open_form(REQUESTER, "").await;
    assert_eq!(view.view["callback_id"], "okta_reset_request");
    assert_waited(&app, "views.open");

    // A wait longer than the trigger lives: the bot says so rather than retry too late.
    app.w.slack.rate_limit_next("views.open", 1, 5);
    let before = app.w.slack.api_calls("views.open");
    let ack = app.slash(REQUESTER, "").await;
    assert!(
        ack.starts_with(
            "The request form could not be opened (ratelimited: Slack asked to wait 5 s). Type the request instead:"
        ),
        "{ack}"
    );
    app.settle().await;
    assert_eq!(app.w.slack.api_calls("views.open"), before + 1);
    assert_eq!(app.w.slack.views().len(), 1);
    assert_eq!(app.w.slack.retry_after_violations(), Vec::<String>::new());
}
