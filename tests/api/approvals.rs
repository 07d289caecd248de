//! Sign-offs beyond one approval: two distinct approvers above `policy.two_approvers_above`, and
//! the canary (`policy.canary_users`) that pauses a run until an approver clicks Continue.

use okta_reset::domain::request::State;
use okta_reset::sim::slack::SimMessage;
use okta_reset::store::Outcome;

use crate::helpers::*;

/// Resets 28 users (12 more are skipped).
const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

async fn spawn_two_approvers(above: usize) -> TestApp {
    spawn_with()
        .config(move |c| c.policy.two_approvers_above = Some(above))
        .start()
        .await
}

async fn spawn_canary(n: usize) -> TestApp {
    spawn_with()
        .config(move |c| c.policy.canary_users = Some(n))
        .start()
        .await
}

/// `approver` approves; waits for the run to pause after its canary and returns the message
/// carrying the Continue button.
async fn approve_until_paused(app: &TestApp, approver: &str, p: &Posted) -> SimMessage {
    app.click(approver, p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    app.wait_continue_button(p).await
}

#[tokio::test]
async fn above_the_threshold_two_distinct_approvers_are_needed() {
    let app = spawn_two_approvers(10).await;
    let p = app.request(ASK).await;
    let root = app.root_text(&p);
    assert!(
        root.contains("*Needs 2 approvals* from 2 different approvers"),
        "{root}"
    );
    assert!(
        root.contains("*Approved so far (0 of 2):* none yet"),
        "{root}"
    );

    app.click(APPROVER, &p, "approve").await;
    let line = app.wait_thread(&p, "1 of 2 approvals").await;
    assert!(
        line.contains("1 of 2 approvals: <@U0002>")
            && line.contains("another approver must approve"),
        "{line}"
    );
    let root = app
        .wait_root_contains(&p, "Approved so far (1 of 2):* <@U0002>")
        .await;
    assert!(
        root.contains("\"action_id\":\"approve\""),
        "still open: {root}"
    );
    let r = app.record(&p.id).await;
    assert_eq!(r.state, State::PendingApproval);
    assert_eq!(r.decision, None);
    assert!(
        app.w.okta.reset_calls().is_empty(),
        "one approval ran nothing"
    );

    // The same approver again: refused, and nothing changes.
    app.click(APPROVER, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "already approved").await;
    assert_eq!(
        msg,
        format!("You have already approved {}. It needs 2 approvals from different approvers, so another approver must approve; nothing changed.", p.id)
    );
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    assert_eq!(app.sign_offs(&p.id).await.len(), 1);
    assert!(app.w.okta.reset_calls().is_empty());

    // A second, different approver: approved, and the run goes.
    app.click(APPROVER_2, &p, "approve").await;
    let approved = app.wait_thread(&p, "✅ Approved by").await;
    assert!(approved.contains("<@U0002> and <@U0003>"), "{approved}");
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("Approvals: <@U0002> and <@U0003>."),
        "{summary}"
    );
    let r = app.wait_state(&p.id, State::Completed).await;
    assert_eq!(r.decision.unwrap().actor.as_str(), APPROVER_2);
    assert_eq!(app.w.okta.reset_calls().len(), 28);
    let root = app.wait_root_contains(&p, "Completed").await;
    assert!(root.contains("Approvals: <@U0002> and <@U0003>."), "{root}");
    app.assert_audited(
        &p.id,
        &[
            "approval_recorded",
            "decision_refused",
            "approved",
            "run_started",
        ],
    )
    .await;
}

#[tokio::test]
async fn at_or_below_the_threshold_one_approval_suffices() {
    let app = spawn_two_approvers(28).await;
    let p = app.request(ASK).await;
    assert!(app
        .root_text(&p)
        .contains("Waiting for a second admin to approve"));
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(app.w.okta.reset_calls().len(), 28);
    assert!(app.sign_offs(&p.id).await.is_empty());
}

#[tokio::test]
async fn the_requester_cannot_be_the_first_or_the_second_approver() {
    let app = spawn_two_approvers(10).await;
    // U0002 is both a requester and an approver in the test workspace.
    let p = app.request_as(APPROVER, ASK).await;
    let own = "You asked for this reset, so you can't approve it: another approver must.";

    app.click(APPROVER, &p, "approve").await;
    assert_eq!(app.ephemeral_to(APPROVER, "you can't approve").await, own);
    app.settle().await;
    assert!(app.sign_offs(&p.id).await.is_empty());

    app.click(APPROVER_2, &p, "approve").await;
    app.wait_thread(&p, "1 of 2 approvals: <@U0003>").await;
    app.click(APPROVER, &p, "approve").await;
    app.settle().await;
    let refusals = app
        .w
        .slack
        .ephemerals()
        .into_iter()
        .filter(|e| e.user == APPROVER && e.text == own)
        .count();
    assert_eq!(refusals, 2, "the second attempt was refused too");
    let r = app.record(&p.id).await;
    assert_eq!(r.state, State::PendingApproval);
    assert_eq!(app.sign_offs(&p.id).await.len(), 1);
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn a_deny_after_the_first_approval_denies() {
    let app = spawn_two_approvers(10).await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "1 of 2 approvals").await;
    app.click(APPROVER_2, &p, "deny").await;
    app.wait_thread(&p, "Denied by <@U0003>").await;
    let r = app.wait_state(&p.id, State::Denied).await;
    assert_eq!(r.decision.unwrap().actor.as_str(), APPROVER_2);
    // Nothing more can approve it.
    app.click(APPROVER, &p, "approve").await;
    app.ephemeral_to(APPROVER, "already denied").await;
    app.settle().await;
    assert!(app.w.okta.reset_calls().is_empty());
    assert_eq!(app.record(&p.id).await.state, State::Denied);
}

#[tokio::test]
async fn two_approvals_at_once_make_one_decision_and_one_run() {
    let app = spawn_two_approvers(10).await;
    let p = app.request(ASK).await;
    app.approve_at_once(&p).await;
    app.wait_thread(&p, "Run complete").await;
    app.settle().await;
    assert_eq!(app.thread_count(&p, "✅ Approved by"), 1);
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 28, "every user once, not twice");
    app.assert_each_target_reset_once(&p.id).await;
}

#[tokio::test]
async fn the_canary_pauses_after_n_and_only_an_approver_continues_it() {
    let app = spawn_canary(3).await;
    let p = app.request(ASK).await;
    let button = approve_until_paused(&app, APPROVER, &p).await;
    let shown = format!("{}{}", button.text, button.blocks);
    assert!(
        shown.contains("Canary: 3 users reset; check them, then an approver clicks Continue"),
        "{shown}"
    );
    app.wait_thread(&p, "on the progress message above").await;
    app.wait_root_contains(&p, "Paused after the canary").await;
    app.settle().await;
    assert_eq!(
        app.w.okta.reset_calls().len(),
        3,
        "no reset past the canary"
    );

    // Not on the approver list; the requester: refused, nothing changes.
    app.click_continue(OUTSIDER, &button, &p).await;
    assert_eq!(
        app.ephemeral_to(OUTSIDER, "approvers").await,
        "You are not on the list of approvers for password resets."
    );
    app.click_continue(REQUESTER, &button, &p).await;
    assert_eq!(
        app.ephemeral_to(REQUESTER, "can't approve").await,
        "You asked for this reset, so you can't approve it: another approver must."
    );
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 3);

    app.click_continue(APPROVER_2, &button, &p).await;
    app.wait_thread(&p, "▶️ Continued by <@U0003>").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("Continued after the canary by <@U0003>."),
        "{summary}"
    );
    assert!(summary.contains("*28 reset*"), "{summary}");
    app.wait_state(&p.id, State::Completed).await;
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 28, "every user reset once, none left behind");
    for t in app.assert_each_target_reset_once(&p.id).await {
        assert_eq!(t.outcome, Outcome::Reset);
    }
    // A second Continue on the old button changes nothing.
    app.click_continue(APPROVER, &button, &p).await;
    app.ephemeral_to(APPROVER, "no paused run to continue")
        .await;
    app.assert_audited(
        &p.id,
        &[
            "run_paused_for_canary",
            "continue_refused",
            "run_continued",
            "run_continued_after_canary",
            "run_finished",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_paused_run_can_be_cancelled_and_then_not_continued() {
    let app = spawn_canary(3).await;
    let p = app.request(ASK).await;
    let button = approve_until_paused(&app, APPROVER, &p).await;
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    let summary = app.wait_thread(&p, "Run cancelled").await;
    assert!(summary.contains("*3 reset*"), "{summary}");
    assert!(summary.contains("25 not attempted"), "{summary}");
    app.wait_thread(&p, "paused after its canary; no further user is reset")
        .await;
    app.click_continue(APPROVER_2, &button, &p).await;
    app.ephemeral_to(APPROVER_2, "no paused run to continue")
        .await;
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Cancelled);
    assert_eq!(app.w.okta.reset_calls().len(), 3);
    // The Continue button is gone from the progress message.
    let now = app
        .w
        .slack
        .messages()
        .into_iter()
        .find(|m| m.ts == button.ts)
        .unwrap();
    assert!(!now
        .blocks
        .to_string()
        .contains("\"action_id\":\"continue\""));
}

#[tokio::test]
async fn a_paused_run_stays_paused_across_a_restart_and_continues_after() {
    let app = spawn_canary(5).await;
    let p = app.request(ASK).await;
    let button = approve_until_paused(&app, APPROVER, &p).await;
    let TestApp { w, clock } = app;
    let w = w.restart_app().await.unwrap();
    let app = TestApp { w, clock };
    app.settle().await;
    assert_eq!(
        app.record(&p.id).await.state,
        State::Paused,
        "not resumed by itself"
    );
    assert_eq!(app.w.okta.reset_calls().len(), 5);
    app.click_continue(APPROVER_2, &button, &p).await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(app.w.okta.reset_calls().len(), 28);
}

#[tokio::test]
async fn a_guest_or_a_target_cannot_continue_a_paused_run() {
    use okta_reset::domain::ids::SlackUserId;
    use okta_reset::sim::slack::SimSlackUser;
    // Bob (U0002's Okta account) must not hold an admin role here, or he would be protected.
    let app = spawn_with()
        .org(demo_org_without_admin_role(&["bob@example.com"]))
        .config(|c| {
            c.policy.canary_users = Some(1);
            c.policy
                .approvers
                .insert(SlackUserId::parse("UGUEST1").unwrap());
        })
        .start()
        .await;
    let mut guest = SimSlackUser::member("UGUEST1", "T0001", "guest", "Gary Guest");
    guest.is_restricted = true;
    app.w.slack.put_user(guest);
    let p = app
        .request(r#"user:bob@example.com,c01.lee@contractors.example.com,c07.reyes@contractors.example.com reason:"x""#)
        .await;
    let button = approve_until_paused(&app, APPROVER_2, &p).await;

    app.click_continue(APPROVER, &button, &p).await;
    let msg = app.ephemeral_to(APPROVER, "Your own Okta account").await;
    assert!(msg.contains("another approver must"), "{msg}");
    app.click_continue("UGUEST1", &button, &p).await;
    app.ephemeral_to("UGUEST1", "cannot approve").await;
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 1);
    assert!(app.sign_offs(&p.id).await.is_empty());

    app.click_continue(APPROVER_2, &button, &p).await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(app.w.okta.reset_calls().len(), 3);
}

#[tokio::test]
async fn a_first_approval_does_not_stop_the_request_expiring() {
    let app = spawn_with()
        .manual_clock()
        .config(|c| c.policy.two_approvers_above = Some(10))
        .start()
        .await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "1 of 2 approvals").await;
    app.clock.as_ref().unwrap().advance_secs(31 * 60);
    app.assert_approval_refused_as_expired(APPROVER_2, &p).await;
    assert_eq!(app.sign_offs(&p.id).await.len(), 1);
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn a_paused_run_does_not_expire_and_can_be_continued_days_later() {
    let app = spawn_with()
        .manual_clock()
        .config(|c| c.policy.canary_users = Some(2))
        .start()
        .await;
    let p = app.request(ASK).await;
    // The Okta pacer runs on the manual clock: it moves on while the canary's users (each read
    // again, then reset) are paced.
    let clock = app.clock.clone().unwrap();
    app.click(APPROVER, &p, "approve").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.record(&p.id).await.state != State::Paused {
        assert!(tokio::time::Instant::now() < deadline, "never paused");
        clock.advance_secs(1);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let button = app.wait_continue_button(&p).await;
    clock.advance_secs(3 * 24 * 3600);
    app.w.app.service.expire_due().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 2);
    // Continue is still accepted. (The rest of the run is not awaited here: the Okta pacer
    // runs on the same manual clock, three days ahead of the simulator's rate-limit windows.)
    app.click_continue(APPROVER_2, &button, &p).await;
    app.wait_thread(&p, "▶️ Continued by <@U0003>").await;
    assert_ne!(app.record(&p.id).await.state, State::Paused);
}
