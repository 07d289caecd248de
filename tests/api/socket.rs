//! Socket Mode: the same scenarios as over HTTP, with Slack's side delivering envelopes over the
//! sim's WebSocket (`hello`, acks by `envelope_id`, `disconnect`) and no HTTP request to the bot.

use okta_reset::domain::request::State;
use okta_reset::slack::modal::{FILE, GROUP, KIND_FILE, KIND_GROUP};
use serde_json::json;

use crate::helpers::*;
use crate::upload_helpers::*;

pub const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

pub async fn socket_app() -> TestApp {
    let app = spawn_with().socket_mode().start().await;
    assert_eq!(app.w.slack.api_calls("apps.connections.open"), 1);
    wait_connected(&app.w.slack).await;
    app
}

/// The bot connects in the background once its URL is issued.
pub async fn wait_connected(slack: &okta_reset::sim::slack::SlackSim) {
    slack
        .wait_for("the bot's connection", WAIT, |s| s.socket().open_now() == 1)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_whole_flow_over_socket_mode_resets_exactly_the_eligible_users_once() {
    let app = socket_app().await;
    let p = app.request(ASK).await;
    let root = app.root_text(&p);
    assert!(root.contains("*28 will reset*"), "{root}");
    assert!(root.contains("4 skipped: AD/LDAP-managed"), "{root}");
    approve_and_finish_28(&app, &p).await;
    assert_eq!(app.w.slack.socket().opened(), 1);
}

/// Approves the `group:contractors` request `p` and checks its run: 28 reset, once each.
async fn approve_and_finish_28(app: &TestApp, p: &Posted) {
    app.click(APPROVER, p, "approve").await;
    let summary = app.wait_thread(p, "Run complete").await;
    assert!(
        summary.contains("*28 reset*, 12 skipped, 0 failed"),
        "{summary}"
    );
    app.wait_state(&p.id, State::Completed).await;
    app.assert_okta_reset_each_once(28);
}

/// Shares Rockstar's export with a mention and returns the request it made (9 to reset).
pub async fn share_the_rockstar_export(app: &TestApp) -> Posted {
    let file = app.upload(
        REQUESTER,
        "rockstar-export-users.csv",
        fixture("rockstar-export-users.csv"),
    );
    // share() delivers the app_mention and the message/file_share, as Slack does.
    app.share(REQUESTER, r#"<@UBOT> reason:"INC-88""#, &[file])
        .await;
    let p = app.wait_root().await;
    assert!(app.root_text(&p).contains("*9 will reset*"));
    p
}

#[tokio::test]
async fn refusals_over_socket_mode_are_word_for_word_those_over_http() {
    let http = spawn().await;
    let socket = socket_app().await;
    for (user, channel, text) in [
        (OUTSIDER, "C0001", r#"group:contractors reason:"x""#),
        (REQUESTER, "C0999", r#"group:contractors reason:"x""#),
        (REQUESTER, "C0001", "group:contractors"),
    ] {
        let want = http.slash_in(user, channel, text).await;
        assert!(!want.is_empty());
        assert_eq!(socket.slash_in(user, channel, text).await, want);
    }
    socket.settle().await;
    socket.assert_nothing_changed().await;
}

#[tokio::test]
async fn the_form_opens_and_its_errors_come_back_in_the_ack() {
    let app = socket_app().await;
    let view = app.open_form(REQUESTER, "").await;
    assert_eq!(view.view["callback_id"], "okta_reset_request");
    let values = form_values(KIND_GROUP, &[(GROUP, text_value("contractors"))], None);
    let r = app.submit_form(REQUESTER, &view, values).await;
    let ack = r.json.expect("the ack carries a payload");
    assert_eq!(ack["response_action"], "errors");
    assert_eq!(
        ack["errors"],
        json!({"reason": "A reason is required: give one, for example an incident number."})
    );
    app.assert_nothing_changed().await;
    // A good submission closes the form (an empty ack) and starts the request.
    let file = app.upload(
        REQUESTER,
        "rockstar-export-users.csv",
        fixture("rockstar-export-users.csv"),
    );
    let values = form_values(KIND_FILE, &[(FILE, file_value(&[file]))], Some("INC-90"));
    assert_eq!(app.submit_form(REQUESTER, &view, values).await.body, "");
    let p = app.wait_root().await;
    assert!(app.root_text(&p).contains("*9 will reset*"));
}

#[tokio::test]
async fn a_shared_csv_arrives_as_an_events_api_envelope_and_is_claimed_once() {
    let app = socket_app().await;
    share_the_rockstar_export(&app).await;
    app.settle().await;
    assert_eq!(app.roots().len(), 1, "one request for two deliveries");
}

#[tokio::test]
async fn a_disconnect_is_followed_by_a_new_connection_that_works() {
    let app = socket_app().await;
    let hub = app.w.slack.socket();
    hub.disconnect("refresh_requested");
    app.w
        .slack
        .wait_for("a second connection", WAIT, |s| s.socket().opened() == 2)
        .await
        .unwrap();
    assert_eq!(app.w.slack.api_calls("apps.connections.open"), 2);
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(hub.open_now(), 1, "the old connection was closed");
}

#[tokio::test]
async fn a_bot_token_given_as_the_app_token_stops_the_start_with_its_reason() {
    // Past the environment's prefix check (a token that Slack itself refuses).
    let world = okta_reset::sim::world::World::start(okta_reset::sim::world::WorldOptions {
        socket_mode: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut secrets = world.secrets.clone();
    secrets.slack_app_token = Some(okta_reset::secret::Secret::from(world.slack.bot_token()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    wait_connected(&world.slack).await;
    let opened_before = world.slack.socket().opened();
    let err =
        okta_reset::app::App::start(world.config.clone(), secrets, listener, world.clock.clone())
            .await
            .err()
            .expect("refused");
    assert_eq!(
        err.to_string(),
        "Slack refused SLACK_APP_TOKEN for Socket Mode (not_allowed_token_type): it must be an app-level token (xapp-…) with the connections:write scope"
    );
    assert_eq!(world.slack.socket().opened(), opened_before);
    assert!(world.slack.messages().is_empty());
}

#[tokio::test]
async fn socket_mode_without_an_app_token_does_not_start() {
    let world = okta_reset::sim::world::World::start(Default::default())
        .await
        .unwrap();
    let mut config = world.config.clone();
    config.slack.mode = okta_reset::config::SlackMode::Socket;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err =
        okta_reset::app::App::start(config, world.secrets.clone(), listener, world.clock.clone())
            .await
            .err()
            .expect("refused");
    assert!(
        err.to_string()
            .contains("SLACK_APP_TOKEN is not set: slack.mode = \"socket\""),
        "{err}"
    );
    assert_eq!(world.slack.api_calls("apps.connections.open"), 0);
}

#[tokio::test]
async fn a_form_submitted_over_socket_mode_across_a_refresh_runs_to_its_summary() {
    let app = socket_app().await;
    let view = app.open_form(REQUESTER, "").await;
    // Slack refreshes the connection while the form is open: the submission comes over the new one.
    let hub = app.w.slack.socket();
    hub.disconnect("refresh_requested");
    app.w
        .slack
        .wait_for("the new connection alone", WAIT, |s| {
            s.socket().opened() == 2 && s.socket().open_now() == 1
        })
        .await
        .unwrap();
    let values = form_values(
        KIND_GROUP,
        &[(GROUP, text_value("contractors"))],
        Some("INC-91"),
    );
    assert_eq!(app.submit_form(REQUESTER, &view, values).await.body, "");
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*28 will reset*"), "{root}");
    assert!(root.contains("INC-91"), "{root}");
    approve_and_finish_28(&app, &p).await;
    assert_eq!(hub.gaps(), 0);
}
