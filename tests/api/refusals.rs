//! Every bad request gets a clear answer to the person and changes nothing.

use crate::helpers::*;

#[tokio::test]
async fn an_unknown_requester_is_refused_by_slack_user_id() {
    let app = spawn().await;
    let ack = app.slash(OUTSIDER, r#"group:contractors reason:"x""#).await;
    assert_eq!(
        ack,
        "You are not on the list of people who may request password resets. Ask an okta-reset administrator to add your Slack user ID (U0004)."
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_disallowed_channel_is_refused() {
    let app = spawn().await;
    let ack = app
        .slash_in(REQUESTER, "C0999", r#"group:contractors reason:"x""#)
        .await;
    assert_eq!(
        ack,
        "Password resets can't be requested in this channel. Use one of: <#C0001>."
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_request_from_another_workspace_is_refused() {
    let app = spawn().await;
    let other = okta_reset::sim::slack::SlackDriver::new(
        &app.w.app.base_url(),
        okta_reset::sim::world::SIGNING_SECRET,
        "T0999",
    );
    let r = other
        .slash(REQUESTER, "C0001", r#"group:contractors reason:"x""#)
        .await;
    assert_eq!(r.status, 200);
    let text = r.json.unwrap()["text"].as_str().unwrap().to_string();
    assert!(
        text.starts_with("This bot serves one Slack workspace only"),
        "{text}"
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_missing_reason_is_refused_when_required() {
    let app = spawn().await;
    let ack = app.slash(REQUESTER, "group:contractors").await;
    assert_eq!(
        ack,
        "A reason is required: add `reason:\"…\"` (for example an incident number)."
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_parse_error_names_the_token_and_shows_usage() {
    let app = spawn().await;
    let ack = app
        .slash(REQUESTER, r#"gruop:contractors reason:"x""#)
        .await;
    assert!(ack.contains("gruop"), "{ack}");
    assert!(ack.contains("*Usage:*"), "{ack}");
    let ack = app.slash(REQUESTER, r#"reason:"only a reason""#).await;
    assert!(ack.to_lowercase().contains("say whom to reset"), "{ack}");
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn an_unknown_group_is_answered_privately_by_name() {
    let app = spawn().await;
    app.slash(REQUESTER, r#"group:nonexistent reason:"x""#)
        .await;
    let msg = app.ephemeral_to(REQUESTER, "No Okta group").await;
    assert!(
        msg.contains("No Okta group is named `nonexistent`"),
        "{msg}"
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn an_ambiguous_group_name_lists_the_ids() {
    let app = spawn().await;
    app.slash(REQUESTER, r#"group:engineering reason:"x""#)
        .await;
    let msg = app.ephemeral_to(REQUESTER, "matches 2 groups").await;
    for id in app.w.okta.group_ids_named("Engineering") {
        assert!(msg.contains(&id), "{msg} lacks {id}");
    }
    assert!(msg.contains("Give the id of the one you mean"), "{msg}");
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_user_not_found_is_named() {
    let app = spawn().await;
    app.slash(
        REQUESTER,
        r#"user:c01.lee@contractors.example.com,ghost@example.com reason:"x""#,
    )
    .await;
    let msg = app.ephemeral_to(REQUESTER, "No Okta user").await;
    assert!(msg.contains("`ghost@example.com`"), "{msg}");
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_target_list_with_nothing_to_reset_is_refused() {
    let app = spawn().await;
    // c29 is AD-managed and c37 suspended (see SimOrg::demo).
    app.slash(
        REQUESTER,
        r#"user:c29.mills@contractors.example.com,c37.voss@contractors.example.com reason:"x""#,
    )
    .await;
    let msg = app.ephemeral_to(REQUESTER, "Nothing to reset").await;
    assert!(msg.contains("2 user(s) resolved, all skipped"), "{msg}");
    assert!(
        msg.contains("AD/LDAP-managed") && msg.contains("wrong status"),
        "{msg}"
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn more_targets_than_the_limit_are_refused_with_count_and_limit() {
    let app = spawn_with()
        .config(|c| c.policy.max_targets = 25)
        .start()
        .await;
    app.slash(REQUESTER, r#"group:contractors reason:"x""#)
        .await;
    let msg = app.ephemeral_to(REQUESTER, "more than the limit").await;
    assert!(
        msg.contains("reaches 40 users, more than the limit of 25"),
        "{msg}"
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn the_requesters_own_account_cannot_be_a_target() {
    // Alice without an admin role, so that her account would be reset if she were not the asker.
    let app = spawn_with()
        .org(demo_org_without_admin_role(&["alice@example.com"]))
        .start()
        .await;
    app.slash(REQUESTER, r#"group:it-admins reason:"x""#).await;
    let msg = app.ephemeral_to(REQUESTER, "Your own Okta account").await;
    assert!(msg.contains("alice@example.com"), "{msg}");
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_guest_is_refused_even_when_listed() {
    let app = spawn_with()
        .config(|c| {
            c.policy
                .requesters
                .insert(okta_reset::domain::ids::SlackUserId::parse("UGUEST1").unwrap());
        })
        .start()
        .await;
    let ack = app
        .slash("UGUEST1", r#"group:contractors reason:"x""#)
        .await;
    assert!(ack.starts_with("Looking up"), "{ack}");
    let msg = app.ephemeral_to("UGUEST1", "guest").await;
    assert!(msg.contains("cannot request resets"), "{msg}");
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn help_shows_usage_to_anyone_and_empty_text_is_the_form_for_requesters_only() {
    let app = spawn().await;
    assert!(app.slash(REQUESTER, "help").await.starts_with("*Usage:*"));
    assert!(app.slash(OUTSIDER, "help").await.starts_with("*Usage:*"));
    // Empty text opens the request form (see `form.rs`), which only requesters get.
    assert!(app
        .slash(OUTSIDER, "")
        .await
        .starts_with("You are not on the list of people who may request password resets."));
    app.assert_nothing_changed().await;
}
