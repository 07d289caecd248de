//! Who may stop or steer a request (issue 13, point 2): Deny, cancel and Continue take the same
//! account checks as Approve; `cancel` and `status` only where the bot is run; a click counts
//! only on the message its button was posted on; a cancel shows who cancelled.

use okta_reset::domain::request::State;
use okta_reset::sim::slack::bot_dm;
use okta_reset::sim::world::CHANNEL;

use crate::helpers::*;
use crate::identity::{listed, unfit_users};

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

#[tokio::test]
async fn guests_deleted_bots_and_slack_connect_users_cannot_deny_or_cancel_even_when_listed() {
    for (user, _, approve_refusal) in unfit_users() {
        let refusal =
            |verb: &str| approve_refusal.replace("cannot approve", &format!("cannot {verb}"));
        let id = user.id.clone();
        let listed_id = id.clone();
        // Two approvals needed: a Deny after a first approval must be refused too.
        let app = spawn_with()
            .config(move |c| {
                listed(c, &listed_id);
                c.policy.two_approvers_above = Some(10);
            })
            .start()
            .await;
        app.w.slack.put_user(user);
        let p = app.request(ASK).await;
        app.click(APPROVER, &p, "approve").await;
        app.wait_thread(&p, "1 of 2 approvals").await;

        app.click(&id, &p, "deny").await;
        let msg = app.ephemeral_to(&id, &refusal("deny")).await;
        assert!(msg.contains(&refusal("deny")), "{id}: {msg}");
        let ack = app.slash(&id, &format!("cancel {}", p.id)).await;
        assert!(ack.contains(&refusal("cancel")), "{id}: {ack}");
        app.settle().await;
        let r = app.record(&p.id).await;
        assert_eq!(r.state, State::PendingApproval, "{id}");
        assert!(r.decision.is_none() && r.cancelled_by.is_none(), "{id}");
    }
}

#[tokio::test]
async fn an_approver_whose_own_account_is_a_target_cannot_deny_or_cancel() {
    // Bob (APPROVER) is among the users to reset; his own account must not be the one to stop it.
    let app = spawn_with()
        .org(demo_org_without_admin_role(&["bob@example.com"]))
        .start()
        .await;
    let p = app
        .request(r#"user:bob@example.com,c01.lee@contractors.example.com reason:"x""#)
        .await;
    app.click(APPROVER, &p, "deny").await;
    let msg = app.ephemeral_to(APPROVER, "Your own Okta account").await;
    assert!(msg.contains("so you can't deny"), "{msg}");
    let ack = app.slash(APPROVER, &format!("cancel {}", p.id)).await;
    assert!(ack.contains("so you can't cancel"), "{ack}");
    app.settle().await;
    let r = app.record(&p.id).await;
    assert_eq!(r.state, State::PendingApproval);
    assert!(r.decision.is_none());
}

#[tokio::test]
async fn cancel_and_status_work_only_in_an_allowed_channel_or_a_dm_with_the_bot() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let refusal = |verb: &str| {
        format!(
            "`/okta-reset {verb}` works only in an okta-reset channel (<#{CHANNEL}>) or in your direct messages with the bot. Nothing was looked up or changed."
        )
    };
    app.settle().await;
    let before = app.snapshot().await;
    // Another channel, and a DM between two people (the bot cannot see it): refused alike,
    // whether the request exists or not.
    for place in ["C0ELSEWHERE", "D0PEOPLE1"] {
        for verb in ["status", "cancel"] {
            let ack = app
                .slash_in(REQUESTER, place, &format!("{verb} {}", p.id))
                .await;
            assert_eq!(ack, refusal(verb), "{place} {verb}");
            let ack = app
                .slash_in(REQUESTER, place, &format!("{verb} R-7K3M9QXD"))
                .await;
            assert_eq!(ack, refusal(verb), "{place} {verb} (no such request)");
        }
    }
    app.settle().await;
    app.assert_nothing_changed_since(&before).await;
    // The person's own DM with the bot: both work.
    let dm = bot_dm(APPROVER);
    let status = app
        .slash_in(APPROVER, &dm, &format!("status {}", p.id))
        .await;
    assert!(status.contains("Waiting for approval"), "{status}");
    let ack = app
        .slash_in(APPROVER, &dm, &format!("cancel {}", p.id))
        .await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    assert_eq!(app.record(&p.id).await.state, State::Cancelled);
}

#[tokio::test]
async fn a_click_counts_only_on_the_requests_own_approval_message() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let other = app
        .request_nth(2, r#"user:c01.lee@contractors.example.com reason:"y""#)
        .await;
    let refusal = format!("That button is not on {}'s approval message", p.id);
    // Another message's ts, then the right ts from another channel: neither decides anything.
    let d = &app.w.driver;
    let r = d
        .click(APPROVER, CHANNEL, &other.ts, "approve", &p.id)
        .await;
    assert_eq!(r.status, 200);
    app.ephemeral_to(APPROVER, &refusal).await;
    let r = d
        .click(APPROVER, "C0ELSEWHERE", &p.ts, "approve", &p.id)
        .await;
    assert_eq!(r.status, 200);
    app.settle().await;
    let refused = app
        .w
        .slack
        .ephemerals()
        .iter()
        .filter(|e| e.user == APPROVER && e.text.contains(&refusal))
        .count();
    assert_eq!(refused, 2);
    for id in [&p.id, &other.id] {
        let r = app.record(id).await;
        assert_eq!(r.state, State::PendingApproval);
        assert!(r.decision.is_none());
    }
    assert!(app.w.okta.reset_calls().is_empty());
    // On its own message the same click is taken.
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
}

/// A request approved by APPROVER whose run paused after its first 2 users.
async fn paused_after_canary_of_two() -> (TestApp, Posted) {
    let app = spawn_with()
        .config(|c| c.policy.canary_users = Some(2))
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    (app, p)
}

#[tokio::test]
async fn continue_counts_only_on_the_message_that_carries_the_button() {
    let (app, p) = paused_after_canary_of_two().await;
    let button = app.wait_continue_button(&p).await;
    assert_eq!(
        app.record(&p.id).await.continue_ts.as_deref(),
        Some(button.ts.as_str())
    );
    // Continue sent from the approval message (no such button there): refused.
    app.click_message(APPROVER_2, &p.ts, "continue", &p.id)
        .await;
    app.ephemeral_to(APPROVER_2, "is not on").await;
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 2);
    app.click_continue(APPROVER_2, &button, &p).await;
    app.wait_thread(&p, "Run complete").await;
}

#[tokio::test]
async fn a_cancel_after_approval_shows_who_cancelled_apart_from_who_approved() {
    let (app, p) = paused_after_canary_of_two().await;
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    let r = app.wait_state(&p.id, State::Cancelled).await;
    assert_eq!(r.cancelled_by.as_ref().map(|u| u.as_str()), Some(REQUESTER));
    assert_eq!(
        r.decision.as_ref().map(|d| d.actor.as_str()),
        Some(APPROVER)
    );
    let root = app.wait_root_contains(&p, "*Cancelled*").await;
    assert!(
        root.contains(&format!("*Approved* by <@{APPROVER}>"))
            && root.contains(&format!("*Cancelled* by <@{REQUESTER}>")),
        "{root}"
    );
    assert!(
        !root.contains(&format!("*Cancelled* by <@{APPROVER}>")),
        "{root}"
    );
}
