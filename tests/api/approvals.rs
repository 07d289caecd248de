//! Sign-offs beyond one approval: two distinct approvers above `policy.two_approvers_above`, and
//! the canary (`policy.canary_users`) that pauses a run until an approver clicks Continue.

use okta_reset::domain::request::State;
use okta_reset::sim::world::CHANNEL;

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

async fn audit_actions(app: &TestApp, id: &str) -> Vec<String> {
    app.w
        .app
        .service
        .store
        .audit_events(Some(id))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// The root message as it is now (text and blocks).
async fn wait_root_contains(app: &TestApp, p: &Posted, needle: &str) -> String {
    app.w
        .slack
        .wait_for(&format!("the root with {needle:?}"), WAIT, |s| {
            s.messages()
                .iter()
                .any(|m| m.ts == p.ts && format!("{}{}", m.text, m.blocks).contains(needle))
        })
        .await
        .unwrap();
    app.root_text(p)
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
    let root = wait_root_contains(&app, &p, "Approved so far (1 of 2):* <@U0002>").await;
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
    assert_eq!(
        app.w
            .app
            .service
            .store
            .sign_offs(&p.id)
            .await
            .unwrap()
            .len(),
        1
    );
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
    assert_eq!(r.decision.unwrap().actor, APPROVER_2);
    assert_eq!(app.w.okta.reset_calls().len(), 28);
    let root = wait_root_contains(&app, &p, "Completed").await;
    assert!(root.contains("Approvals: <@U0002> and <@U0003>."), "{root}");
    let actions = audit_actions(&app, &p.id).await;
    for a in [
        "approval_recorded",
        "decision_refused",
        "approved",
        "run_started",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "audit lacks {a}: {actions:?}"
        );
    }
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
    assert!(app
        .w
        .app
        .service
        .store
        .sign_offs(&p.id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_requester_cannot_be_the_first_or_the_second_approver() {
    let app = spawn_two_approvers(10).await;
    // U0002 is both a requester and an approver in the test workspace.
    let ack = app.slash(APPROVER, ASK).await;
    assert!(ack.starts_with("Looking up the targets"), "{ack}");
    let p = app.wait_root().await;
    let own = "You asked for this reset, so you can't approve it: another approver must.";

    app.click(APPROVER, &p, "approve").await;
    assert_eq!(app.ephemeral_to(APPROVER, "you can't approve").await, own);
    app.settle().await;
    assert!(app
        .w
        .app
        .service
        .store
        .sign_offs(&p.id)
        .await
        .unwrap()
        .is_empty());

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
    assert_eq!(
        app.w
            .app
            .service
            .store
            .sign_offs(&p.id)
            .await
            .unwrap()
            .len(),
        1
    );
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
    assert_eq!(r.decision.unwrap().actor, APPROVER_2);
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
    tokio::join!(
        app.click(APPROVER, &p, "approve"),
        app.click(APPROVER_2, &p, "approve")
    );
    app.wait_thread(&p, "Run complete").await;
    app.settle().await;
    let approved_lines = app
        .thread(&p)
        .iter()
        .filter(|m| m.text.contains("✅ Approved by"))
        .count();
    assert_eq!(approved_lines, 1);
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 28, "every user once, not twice");
    let targets = app.w.app.service.store.targets(&p.id).await.unwrap();
    for t in targets
        .iter()
        .filter(|t| t.target.classification == "reset")
    {
        assert_eq!(
            app.w.okta.reset_count(t.target.okta_id.as_deref().unwrap()),
            1
        );
    }
}

/// The message carrying the Continue button, once the run paused.
async fn wait_continue_button(app: &TestApp, p: &Posted) -> okta_reset::sim::slack::SimMessage {
    let has = |m: &okta_reset::sim::slack::SimMessage| {
        m.thread_ts.as_deref() == Some(p.ts.as_str())
            && m.blocks.to_string().contains("\"action_id\":\"continue\"")
    };
    app.w
        .slack
        .wait_for("a Continue button in the thread", WAIT, |s| {
            s.messages().iter().any(has)
        })
        .await
        .unwrap();
    app.w.slack.messages().into_iter().find(has).unwrap()
}

async fn click_continue(app: &TestApp, user: &str, ts: &str, p: &Posted) {
    let r = app
        .w
        .driver
        .click(user, CHANNEL, ts, "continue", &p.id)
        .await;
    assert_eq!(r.status, 200, "click answered {}: {}", r.status, r.body);
}

#[tokio::test]
async fn the_canary_pauses_after_n_and_only_an_approver_continues_it() {
    let app = spawn_canary(3).await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = wait_continue_button(&app, &p).await;
    let shown = format!("{}{}", button.text, button.blocks);
    assert!(
        shown.contains("Canary: 3 users reset; check them, then an approver clicks Continue"),
        "{shown}"
    );
    app.wait_thread(&p, "on the progress message above").await;
    wait_root_contains(&app, &p, "Paused after the canary").await;
    app.settle().await;
    assert_eq!(
        app.w.okta.reset_calls().len(),
        3,
        "no reset past the canary"
    );

    // Not on the approver list; the requester: refused, nothing changes.
    click_continue(&app, OUTSIDER, &button.ts, &p).await;
    assert_eq!(
        app.ephemeral_to(OUTSIDER, "approvers").await,
        "You are not on the list of approvers for password resets."
    );
    click_continue(&app, REQUESTER, &button.ts, &p).await;
    assert_eq!(
        app.ephemeral_to(REQUESTER, "can't approve").await,
        "You asked for this reset, so you can't approve it: another approver must."
    );
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 3);

    click_continue(&app, APPROVER_2, &button.ts, &p).await;
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
    let targets = app.w.app.service.store.targets(&p.id).await.unwrap();
    for t in targets
        .iter()
        .filter(|t| t.target.classification == "reset")
    {
        assert_eq!(
            app.w.okta.reset_count(t.target.okta_id.as_deref().unwrap()),
            1
        );
        assert_eq!(t.outcome, "reset");
    }
    // A second Continue on the old button changes nothing.
    click_continue(&app, APPROVER, &button.ts, &p).await;
    app.ephemeral_to(APPROVER, "no paused run to continue")
        .await;
    let actions = audit_actions(&app, &p.id).await;
    for a in [
        "run_paused_for_canary",
        "continue_refused",
        "run_continued",
        "run_continued_after_canary",
        "run_finished",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "audit lacks {a}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_paused_run_can_be_cancelled_and_then_not_continued() {
    let app = spawn_canary(3).await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = wait_continue_button(&app, &p).await;
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    let summary = app.wait_thread(&p, "Run cancelled").await;
    assert!(summary.contains("*3 reset*"), "{summary}");
    assert!(summary.contains("25 not attempted"), "{summary}");
    app.wait_thread(&p, "paused after its canary; no further user is reset")
        .await;
    click_continue(&app, APPROVER_2, &button.ts, &p).await;
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
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = wait_continue_button(&app, &p).await;
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
    click_continue(&app, APPROVER_2, &button.ts, &p).await;
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
    app.click(APPROVER_2, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = wait_continue_button(&app, &p).await;

    click_continue(&app, APPROVER, &button.ts, &p).await;
    let msg = app.ephemeral_to(APPROVER, "Your own Okta account").await;
    assert!(msg.contains("another approver must"), "{msg}");
    click_continue(&app, "UGUEST1", &button.ts, &p).await;
    app.ephemeral_to("UGUEST1", "cannot approve").await;
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 1);
    assert!(app
        .w
        .app
        .service
        .store
        .sign_offs(&p.id)
        .await
        .unwrap()
        .is_empty());

    click_continue(&app, APPROVER_2, &button.ts, &p).await;
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
    app.click(APPROVER_2, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER_2, "expired").await;
    assert!(
        msg.contains("ask the requester to make a new request"),
        "{msg}"
    );
    let r = app.wait_state(&p.id, State::Expired).await;
    assert!(r.decision.is_none());
    assert_eq!(
        app.w
            .app
            .service
            .store
            .sign_offs(&p.id)
            .await
            .unwrap()
            .len(),
        1
    );
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
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = wait_continue_button(&app, &p).await;
    app.clock.as_ref().unwrap().advance_secs(3 * 24 * 3600);
    app.w.app.service.expire_due().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused);
    assert_eq!(app.w.okta.reset_calls().len(), 2);
    // Continue is still accepted. (The rest of the run is not awaited here: the Okta pacer
    // runs on the same manual clock, three days ahead of the simulator's rate-limit windows.)
    click_continue(&app, APPROVER_2, &button.ts, &p).await;
    app.wait_thread(&p, "▶️ Continued by <@U0003>").await;
    assert_ne!(app.record(&p.id).await.state, State::Paused);
}
