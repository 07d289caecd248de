//! Allowlists naming Slack user groups (`S…`): members may ask or approve, others are refused,
//! a membership change is seen once the cached list is older than `GROUP_CACHE_SECS`, and a
//! group Slack cannot list refuses (fail closed) without changing anything.

use okta_reset::domain::ids::SlackUserGroupId;
use okta_reset::domain::request::State;
use okta_reset::service::GROUP_CACHE_SECS;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-7 groups""#;
const REQUESTER_GROUP: &str = "S0REQ";
const APPROVER_GROUP: &str = "S0APPR";
const LIST: &str = "usergroups.users.list";

/// Requesters: U0001, U0002 by ID and the group S0REQ; approvers: U0002, U0003 and S0APPR.
fn with_groups() -> Spawn {
    spawn_with().config(|c| {
        let g = |s: &str| SlackUserGroupId::parse(s).unwrap();
        c.policy.requesters.groups.insert(g(REQUESTER_GROUP));
        c.policy.approvers.groups.insert(g(APPROVER_GROUP));
    })
}

/// Starts the bot as `with_groups`, with `requesters` in S0REQ and `approvers` in S0APPR.
async fn spawn_with_members(requesters: &[&str], approvers: &[&str]) -> TestApp {
    let app = with_groups().start().await;
    app.w.slack.put_usergroup(REQUESTER_GROUP, requesters);
    app.w.slack.put_usergroup(APPROVER_GROUP, approvers);
    app
}

fn no_resets(app: &TestApp) {
    assert!(
        app.w.okta.reset_calls().is_empty(),
        "Okta was asked to reset"
    );
}

#[tokio::test]
async fn a_member_of_a_listed_group_may_request_and_a_member_of_another_may_approve() {
    // U0004 is listed nowhere by ID; U0001 is a requester by ID but an approver only by group.
    let app = spawn_with_members(&[OUTSIDER], &[REQUESTER]).await;
    let p = app.request_as(OUTSIDER, ASK).await;
    assert!(app.root_text(&p).contains("Requested by* <@U0004>"));
    app.click(REQUESTER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("approved by <@U0001>"), "{summary}");
    let r = app.wait_state(&p.id, State::Completed).await;
    assert_eq!(r.decision.unwrap().actor.as_str(), REQUESTER);
    assert!(!app.w.okta.reset_calls().is_empty());
    // One read of each group; a person listed by ID costs no Slack call.
    assert_eq!(app.w.slack.api_calls(LIST), 2);
    // The audit log says which group let each of them in.
    let store = &app.w.app.service.store;
    let mut admitted: Vec<(Option<String>, Option<String>, serde_json::Value)> = store
        .audit_events(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "admitted_through_group")
        .map(|e| (e.request_id, e.actor, e.detail))
        .collect();
    admitted.sort_by_key(|(r, _, _)| r.is_some());
    assert_eq!(
        admitted,
        vec![
            (
                None,
                Some(OUTSIDER.to_string()),
                serde_json::json!({"role": "requester", "groups": [REQUESTER_GROUP]})
            ),
            (
                Some(p.id.clone()),
                Some(REQUESTER.to_string()),
                serde_json::json!({"role": "approver", "groups": [APPROVER_GROUP]})
            ),
        ]
    );
    // The group's member may look the request up; U0002, listed by ID, costs no Slack call.
    let status = app.slash(REQUESTER, &format!("status {}", p.id)).await;
    assert!(status.contains("Completed"), "{status}");
    let status = app.slash(APPROVER, &format!("status {}", p.id)).await;
    assert!(status.contains("Completed"), "{status}");
    assert_eq!(app.w.slack.api_calls(LIST), 2);
}

#[tokio::test]
async fn a_non_member_is_refused_as_requester_and_as_approver() {
    let app = spawn_with_members(&[APPROVER_2], &[APPROVER_2]).await;
    let ack = app.slash(OUTSIDER, ASK).await;
    assert_eq!(
        ack,
        "You are not on the list of people who may request password resets. Ask an okta-reset administrator to add your Slack user ID (U0004)."
    );
    app.settle().await;
    app.assert_nothing_changed().await;

    let p = app.request(ASK).await;
    app.click(OUTSIDER, &p, "approve").await;
    let why = app
        .ephemeral_to(OUTSIDER, "not on the list of approvers")
        .await;
    assert_eq!(
        why,
        "You are not on the list of approvers for password resets."
    );
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    no_resets(&app);
    // Neither may they cancel it, being no approver.
    let ack = app.slash(OUTSIDER, &format!("cancel {}", p.id)).await;
    assert_eq!(
        ack,
        format!("Only the requester or an approver can cancel {}.", p.id)
    );
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
}

#[tokio::test]
async fn a_membership_change_is_seen_once_the_cached_list_is_older_than_the_cache_time() {
    let app = with_groups().manual_clock().start().await;
    let clock = app.clock.clone().unwrap();
    app.w.slack.put_usergroup(REQUESTER_GROUP, &[OUTSIDER]);
    let ack = app.slash(OUTSIDER, ASK).await;
    assert!(ack.starts_with("Looking up the targets"), "{ack}");
    assert_eq!(app.w.slack.api_calls(LIST), 1);

    // Removed from the group in Slack: the list read a moment ago still holds (shared by
    // requests, no second call) until it is GROUP_CACHE_SECS old.
    app.w.slack.put_usergroup(REQUESTER_GROUP, &[]);
    clock.advance_secs(GROUP_CACHE_SECS - 1);
    let ack = app.slash(OUTSIDER, ASK).await;
    assert!(ack.starts_with("Looking up the targets"), "{ack}");
    assert_eq!(app.w.slack.api_calls(LIST), 1);

    clock.advance_secs(1);
    let ack = app.slash(OUTSIDER, ASK).await;
    assert!(
        ack.starts_with("You are not on the list of people who may request"),
        "{ack}"
    );
    assert_eq!(app.w.slack.api_calls(LIST), 2);
}

#[tokio::test]
async fn slack_failing_to_list_a_group_refuses_in_words_and_changes_nothing() {
    let app = spawn_with_members(&[OUTSIDER], &[REQUESTER]).await;
    app.w.slack.fail_next(LIST, 1, "fatal_error");
    let ack = app.slash(OUTSIDER, ASK).await;
    assert_eq!(
        ack,
        "You are not listed by your Slack user ID, and your membership of the Slack user group(s) S0REQ could not be checked with Slack, so the bot cannot tell whether you may request password resets. Nothing was done; try again shortly."
    );
    app.settle().await;
    app.assert_nothing_changed().await;
    // A failure is not cached: the next request asks again, and gets in.
    let ack = app.slash(OUTSIDER, ASK).await;
    assert!(ack.starts_with("Looking up the targets"), "{ack}");
    assert_eq!(app.w.slack.api_calls(LIST), 2);
    let p = app.wait_root().await;

    // The approver group cannot be read: the click is refused and nothing is decided.
    app.w.slack.fail_next(LIST, 1, "fatal_error");
    app.click(REQUESTER, &p, "approve").await;
    let why = app.ephemeral_to(REQUESTER, "could not be checked").await;
    assert!(why.contains("S0APPR"), "{why}");
    assert!(why.contains("Nothing was decided"), "{why}");
    let r = app.record(&p.id).await;
    assert_eq!(r.state, State::PendingApproval);
    assert!(r.decision.is_none());
    no_resets(&app);

    // A requester listed by ID is not held up by Slack failing to list the groups.
    app.w.slack.fail_next(LIST, 5, "fatal_error");
    let before = app.w.slack.api_calls(LIST);
    let ack = app.slash(REQUESTER, ASK).await;
    assert!(ack.starts_with("Looking up the targets"), "{ack}");
    assert_eq!(app.w.slack.api_calls(LIST), before);
}
