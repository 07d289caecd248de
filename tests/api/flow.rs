//! Approval in Slack: who may decide, what a decision does to the root message, expiry,
//! cancellation, dry runs, restarts.

use okta_reset::domain::request::State;
use okta_reset::store::{DecisionKind, Outcome, TargetClass};

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

#[tokio::test]
async fn the_whole_flow_resets_exactly_the_eligible_users_once() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let root = app.root_text(&p);
    assert!(root.contains("Requested by* <@U0001>"), "{root}");
    assert!(root.contains("INC-4312 phishing"), "{root}");
    assert!(root.contains("*28 will reset*"), "{root}");
    assert!(root.contains("4 skipped: AD/LDAP-managed"), "{root}");
    assert!(root.contains("3 skipped: federated/social"), "{root}");
    assert!(root.contains("5 skipped: wrong status"), "{root}");
    assert!(root.contains("\"action_id\":\"approve\""), "{root}");
    let r = app.record(&p.id).await;
    assert!(root.contains(&r.digest[..16]), "digest shown: {root}");

    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*28 reset*, 12 skipped, 0 failed"),
        "{summary}"
    );
    assert!(
        summary.contains("Requested by <@U0001>, approved by <@U0002>"),
        "{summary}"
    );

    // Okta saw exactly the 28 eligible users, once each, with sendEmail=true.
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 28);
    assert!(calls.iter().all(|c| c.send_email && !c.revoke_sessions));
    for t in &app.targets(&p.id).await {
        let id = t.target.okta_id.as_deref().unwrap();
        let want = usize::from(t.target.classification == TargetClass::Reset);
        assert_eq!(app.w.okta.reset_count(id), want, "{:?}", t.target.login);
        if want == 1 {
            assert_eq!(t.outcome, Outcome::Reset);
            assert!(t.okta_request_id.is_some(), "Okta request id journalled");
        }
    }
    // The root now says who approved, and has no buttons.
    let r = app.wait_state(&p.id, State::Completed).await;
    assert_eq!(r.decision.unwrap().actor.as_str(), APPROVER);
    let root = app.wait_root_contains(&p, "Completed").await;
    assert!(root.contains("*Approved* by <@U0002>"), "{root}");
    assert!(
        !root.contains("\"action_id\":\"approve\""),
        "buttons gone: {root}"
    );
    // Each step is in the audit log.
    app.assert_audited(
        &p.id,
        &[
            "request_received",
            "targets_resolved",
            "approval_posted",
            "approved",
            "run_started",
            "user_outcome",
            "run_finished",
        ],
    )
    .await;
}

#[tokio::test]
async fn self_approval_is_refused_and_changes_nothing() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(REQUESTER, &p, "approve").await;
    let msg = app.ephemeral_to(REQUESTER, "approve").await;
    assert_eq!(
        msg,
        "You asked for this reset, so you can't approve it: another approver must."
    );
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn a_non_approver_is_refused_and_changes_nothing() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(OUTSIDER, &p, "approve").await;
    let msg = app.ephemeral_to(OUTSIDER, "approvers").await;
    assert_eq!(
        msg,
        "You are not on the list of approvers for password resets."
    );
    app.click(OUTSIDER, &p, "deny").await;
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn an_approver_who_is_a_target_cannot_approve() {
    // Bob must not hold an Okta admin role here, or he would be protected and never a target.
    let app = spawn_with()
        .org(demo_org_without_admin_role(&["bob@example.com"]))
        .start()
        .await;
    let p = app
        .request(r#"user:bob@example.com,c01.lee@contractors.example.com reason:"x""#)
        .await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "Your own Okta account").await;
    assert!(msg.contains("another approver must"), "{msg}");
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    // Another approver can.
    app.click(APPROVER_2, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(app.w.okta.reset_calls().len(), 2);
}

#[tokio::test]
async fn a_second_approval_is_harmless() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    app.click(APPROVER_2, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER_2, "already").await;
    assert_eq!(
        msg,
        format!(
            "{} was already approved by <@U0002>; nothing changed.",
            p.id
        )
    );
    app.settle().await;
    assert_eq!(app.w.okta.reset_calls().len(), 28, "one run only");
    assert_eq!(app.thread_count(&p, "Run complete"), 1);
}

#[tokio::test]
async fn two_approvers_clicking_at_once_make_one_decision_and_one_run() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.approve_at_once(&p).await;
    app.wait_thread(&p, "Run complete").await;
    app.settle().await;
    assert_eq!(app.w.okta.reset_calls().len(), 28);
    let decided: Vec<String> = app
        .audit_events(&p.id)
        .await
        .into_iter()
        .filter(|e| e.action == "approved")
        .filter_map(|e| e.actor)
        .collect();
    assert_eq!(decided.len(), 1, "{decided:?}");
}

#[tokio::test]
async fn an_expired_request_cannot_be_approved_and_says_so() {
    let app = spawn_with().manual_clock().start().await;
    let p = app.request(ASK).await;
    app.clock.as_ref().unwrap().advance_secs(31 * 60);
    app.assert_approval_refused_as_expired(APPROVER, &p).await;
    let root = app.wait_root_contains(&p, "Expired").await;
    assert!(!root.contains("\"action_id\":\"approve\""));
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn deny_ends_the_request_without_resets() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "deny").await;
    app.wait_thread(&p, "Denied by <@U0002>").await;
    let r = app.wait_state(&p.id, State::Denied).await;
    assert_eq!(r.decision.unwrap().decision, DecisionKind::Denied);
    app.click(APPROVER_2, &p, "approve").await;
    app.ephemeral_to(APPROVER_2, "already denied").await;
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn the_requester_can_cancel_before_approval() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    app.wait_thread(&p, "Cancelled by <@U0001>").await;
    app.click(APPROVER, &p, "approve").await;
    app.ephemeral_to(APPROVER, "already cancelled").await;
    app.settle().await;
    assert!(app.w.okta.reset_calls().is_empty());
    // An outsider cannot cancel anything.
    let ack = app.slash(OUTSIDER, &format!("cancel {}", p.id)).await;
    assert!(
        ack.starts_with("Only the requester or an approver"),
        "{ack}"
    );
}

#[tokio::test]
async fn status_reports_the_state_to_admins_only() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let s = app.slash(APPROVER, &format!("status {}", p.id)).await;
    assert!(s.contains("Waiting for approval"), "{s}");
    assert!(s.contains("INC-4312 phishing"), "{s}");
    let s = app.slash(OUTSIDER, &format!("status {}", p.id)).await;
    assert_eq!(
        s,
        "Only okta-reset requesters and approvers can look up requests."
    );
}

#[tokio::test]
async fn dry_run_shows_the_classification_and_never_resets() {
    let app = spawn().await;
    let p = app
        .request(r#"group:contractors reason:"check" --dry-run"#)
        .await;
    let root = app.root_text(&p);
    assert!(root.contains("Dry run"), "{root}");
    assert!(root.contains("*28 will reset*"), "{root}");
    assert!(!root.contains("\"action_id\":\"approve\""), "{root}");
    assert_eq!(app.record(&p.id).await.state, State::DryRun);
    app.click(APPROVER, &p, "approve").await;
    app.settle().await;
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn a_pending_approval_survives_a_restart_of_the_bot() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    let TestApp { w, clock } = app;
    let w = w.restart_app().await.unwrap();
    let app = TestApp { w, clock };
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(app.w.okta.reset_calls().len(), 28);
}

#[tokio::test]
async fn mentions_and_ampersands_are_escaped_in_every_message() {
    let app = spawn().await;
    let p = app
        .request(r#"group:"Sales & <Marketing>" user:c07.reyes@contractors.example.com,c08.obrien@contractors.example.com reason:"<!channel> & <@U0002> <https://evil|click>""#)
        .await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    app.slash(REQUESTER, &format!("status {}", p.id)).await;
    let mut all = String::new();
    for m in app.w.slack.messages() {
        all.push_str(&m.text);
        all.push_str(&m.blocks.to_string());
        for (t, b) in &m.edits {
            all.push_str(t);
            all.push_str(&b.to_string());
        }
    }
    for e in app.w.slack.ephemerals() {
        all.push_str(&e.text);
    }
    for bad in [
        "<!channel>",
        "<@U0002> <https",
        "<https://evil",
        "Sales & <Marketing>",
        "O'Brien & <@",
    ] {
        assert!(!all.contains(bad), "unescaped {bad:?} reached Slack");
    }
    assert!(
        all.contains("&lt;!channel&gt; &amp; &lt;@U0002&gt;"),
        "reason escaped"
    );
    assert!(
        all.contains("Sales &amp; &lt;Marketing&gt;"),
        "group name escaped"
    );
    // The contractor whose first name is <!channel> is listed, escaped.
    assert!(
        all.contains("&lt;!channel&gt; Reyes"),
        "Okta name escaped: {all}"
    );
}
