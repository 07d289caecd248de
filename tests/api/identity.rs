//! Replay and identity: a signed request is accepted once; guests, deactivated accounts, bots and
//! Slack Connect users are refused as requesters and approvers even when listed.

use okta_reset::domain::ids::SlackUserId;
use okta_reset::domain::request::State;
use okta_reset::sim::slack::SimSlackUser;
use okta_reset::sim::world::{CHANNEL, SIGNING_SECRET};
use okta_reset::slack::replay::{self, REPLAYED};
use okta_reset::slack::verify::sign;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_replayed_slash_command_is_refused_and_changes_nothing() {
    let app = spawn().await;
    let d = &app.w.driver;
    // `help` answers synchronously and stores nothing, so the first delivery leaves no trace.
    let body = d.slash_body(REQUESTER, CHANNEL, "help");
    let ts = now();
    let first = d
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body.clone(),
            ts,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = d
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            ts,
        )
        .await;
    assert_eq!(again.status, 401, "{}", again.body);
    assert_eq!(again.body, REPLAYED);
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_replayed_approval_click_is_refused_and_a_replayed_event_is_dropped() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let d = &app.w.driver;
    let payload = d.click_payload(APPROVER, CHANNEL, &p.ts, "deny", &p.id);
    let body = serde_urlencoded::to_string([("payload", payload.to_string())])
        .unwrap()
        .into_bytes();
    let ts = now();
    let first = d
        .post_signed(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            body.clone(),
            ts,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = d
        .post_signed(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            body.clone(),
            ts,
        )
        .await;
    assert_eq!((again.status, again.body.as_str()), (401, REPLAYED));
    app.wait_state(&p.id, State::Denied).await;
    // Events: acknowledged (Slack would retry anything else) but nothing is done with the copy.
    let ev = br#"{"type":"event_callback","team_id":"T0001","event_id":"Ev1","event":{"type":"reaction_added"}}"#.to_vec();
    let a = d
        .post_signed("/slack/events", "application/json", ev.clone(), ts)
        .await;
    let b = d
        .post_signed("/slack/events", "application/json", ev, ts)
        .await;
    assert_eq!((a.status, b.status), (200, 200));
    // The claim lives in the shared store, so another replica sharing it refuses the copy too.
    let sig = sign(SIGNING_SECRET, &ts.to_string(), &body);
    let store = &app.w.app.service.store;
    assert!(!store.claim_event(&replay::key(&sig), 0).await.unwrap());
}

pub fn listed(c: &mut okta_reset::config::Config, id: &str) {
    let u = SlackUserId::parse(id).unwrap();
    c.policy.requesters.insert(u.clone());
    c.policy.approvers.insert(u);
}

/// Members whose accounts make them unfit, each listed as requester and approver.
pub fn unfit_users() -> Vec<(SimSlackUser, &'static str, &'static str)> {
    let team = "T0001";
    let mut deleted = SimSlackUser::member("UDEL1", team, "gone", "Gone Person");
    deleted.deleted = true;
    let mut ultra = SimSlackUser::member("UULTRA1", team, "single", "Single Channel Guest");
    ultra.is_ultra_restricted = true;
    let mut guest = SimSlackUser::member("UGUEST1", team, "guest", "Gary Guest");
    guest.is_restricted = true;
    let mut bot = SimSlackUser::member("UBOT2", team, "otherbot", "Other Bot");
    bot.is_bot = true;
    let connect = SimSlackUser::member("UEXT1", "T0OTHER", "ext", "External Person");
    vec![
        (guest, "cannot request resets", "cannot approve"),
        (ultra, "cannot request resets", "cannot approve"),
        (deleted, "cannot request resets", "cannot approve"),
        (bot, "cannot request resets", "cannot approve"),
        (
            connect,
            "another workspace (Slack Connect) cannot request",
            "another workspace (Slack Connect) cannot approve",
        ),
    ]
}

#[tokio::test]
async fn guests_deleted_bots_and_slack_connect_users_cannot_request_even_when_listed() {
    for (user, refusal, _) in unfit_users() {
        let id = user.id.clone();
        let listed_id = id.clone();
        let app = spawn_with()
            .config(move |c| listed(c, &listed_id))
            .start()
            .await;
        app.w.slack.put_user(user);
        let ack = app.slash(&id, ASK).await;
        assert!(ack.starts_with("Looking up"), "{id}: {ack}");
        let msg = app.ephemeral_to(&id, refusal).await;
        assert!(msg.contains(refusal), "{id}: {msg}");
        app.settle().await;
        app.assert_nothing_changed().await;
    }
}

#[tokio::test]
async fn guests_deleted_bots_and_slack_connect_users_cannot_approve_even_when_listed() {
    for (user, _, refusal) in unfit_users() {
        let id = user.id.clone();
        let listed_id = id.clone();
        let app = spawn_with()
            .config(move |c| listed(c, &listed_id))
            .start()
            .await;
        app.w.slack.put_user(user);
        let p = app.request(ASK).await;
        app.click(&id, &p, "approve").await;
        let msg = app.ephemeral_to(&id, refusal).await;
        assert!(msg.contains(refusal), "{id}: {msg}");
        app.settle().await;
        let r = app.record(&p.id).await;
        assert_eq!(r.state, State::PendingApproval, "{id}");
        assert!(r.decision.is_none());
        assert!(app.w.okta.reset_calls().is_empty());
    }
}
