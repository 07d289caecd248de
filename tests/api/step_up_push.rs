//! Okta-confirmed approvals with `policy.step_up = "okta_verify_push"`: a number matching push
//! to the approver's Okta Verify; the approval counts only on SUCCESS.

use okta_reset::config::StepUpMode;
use okta_reset::domain::request::State;

use crate::helpers::*;

fn spawn_push() -> Spawn {
    spawn_with().config(|c| c.policy.step_up = StepUpMode::OktaVerifyPush)
}

/// Bob clicks Approve; returns the request and the number he is told to choose.
async fn pushed(app: &TestApp) -> (Posted, String) {
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let told = app.ephemeral_to(APPROVER, "Approve on your phone").await;
    app.assert_not_recorded(&p.id).await;
    (p, told)
}

#[tokio::test]
async fn an_approval_counts_once_okta_verify_says_success() {
    let app = spawn_push().start().await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    let (p, told) = pushed(&app).await;
    let push = app.w.okta.oidc().pushes().remove(0);
    assert!(
        push.number_matching,
        "a number matching challenge was asked for"
    );
    assert_eq!(
        push.user_id,
        app.w.okta.user_id_by_login("bob@example.com").unwrap()
    );
    assert_eq!(
        told,
        format!(
            "Approve on your phone: choose *{}* in Okta Verify (within 2 minutes) to confirm {}. Nothing is recorded until Okta confirms.",
            push.correct_answer, p.id
        )
    );
    app.w.okta.oidc().set_push_result("SUCCESS");
    app.wait_state(&p.id, State::Completed).await;
    let line = app.wait_thread(&p, "confirmed with Okta Verify").await;
    assert!(
        line.contains("🔐 Approved by <@U0002> — confirmed with Okta Verify"),
        "{line}"
    );
    app.assert_audited(&p.id, &["step_up_started", "step_up_confirmed", "approved"])
        .await;
}

#[tokio::test]
async fn a_second_click_while_a_push_is_pending_sends_no_second_push() {
    let app = spawn_push().start().await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    let (p, _) = pushed(&app).await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "already waiting").await;
    assert_eq!(
        msg,
        format!("A push to your phone is already waiting for {}: answer it in Okta Verify. No second push was sent and nothing was recorded.", p.id)
    );
    assert_eq!(app.w.okta.oidc().pushes().len(), 1);
    app.assert_not_recorded(&p.id).await;
}

async fn refused_with(result: &str, needle: &str) {
    let app = spawn_push().start().await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    let (p, _) = pushed(&app).await;
    app.w.okta.oidc().set_push_result(result);
    let told = app.ephemeral_to(APPROVER, "Okta did not confirm").await;
    assert!(told.contains(needle) && told.contains(&p.id), "{told}");
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
    assert!(app
        .step_up_failures(&p.id)
        .await
        .iter()
        .any(|f| f.contains(needle)));
}

#[tokio::test]
async fn a_rejected_push_records_nothing() {
    refused_with("REJECTED", "Okta Verify answered REJECTED").await;
}

#[tokio::test]
async fn a_timed_out_push_records_nothing() {
    refused_with("TIMEOUT", "Okta Verify answered TIMEOUT").await;
}

#[tokio::test]
async fn a_push_unanswered_for_two_minutes_records_nothing() {
    let app = spawn_push().manual_clock().start().await;
    let clock = app.clock.clone().unwrap();
    app.w.okta.oidc().enroll_push("bob@example.com");
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    // The bot paces its Okta calls on its own clock: move it on while the push goes out.
    for _ in 0..100 {
        if app.ephemerals_to(APPROVER) > 0 {
            break;
        }
        clock.advance_secs(1);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.ephemeral_to(APPROVER, "Approve on your phone").await;
    app.assert_not_recorded(&p.id).await;
    clock.advance_secs(121);
    let told = app.ephemeral_to(APPROVER, "Okta did not confirm").await;
    assert!(told.contains("no answer within 2 minutes"), "{told}");
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
}

#[tokio::test]
async fn an_approver_without_a_push_factor_is_refused() {
    let app = spawn_push().start().await;
    app.w
        .okta
        .oidc()
        .enroll("bob@example.com", "push", "OKTA", "PENDING_ACTIVATION");
    app.w
        .okta
        .oidc()
        .enroll("bob@example.com", "token:software:totp", "OKTA", "ACTIVE");
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app
        .ephemeral_to(APPROVER, "no active Okta Verify push")
        .await;
    assert_eq!(
        msg,
        "Your Okta account (bob@example.com) has no active Okta Verify push factor, so Okta cannot confirm your approval; nothing was recorded. Enrol Okta Verify, then click again."
    );
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
    assert!(app.w.okta.oidc().pushes().is_empty());
    app.assert_audited(&p.id, &["decision_refused"]).await;
}

#[tokio::test]
async fn a_canarys_continue_needs_a_push_too() {
    let app = spawn_with()
        .config(|c| {
            c.policy.step_up = StepUpMode::OktaVerifyPush;
            c.policy.canary_users = Some(1);
        })
        .start()
        .await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    app.w.okta.oidc().enroll_push("carol@example.com");
    app.w.okta.oidc().set_push_result("SUCCESS");
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = app.wait_continue_button(&p).await;
    app.w.okta.oidc().set_push_result("WAITING");
    app.click_message(APPROVER_2, &button.ts, "continue", &p.id)
        .await;
    app.ephemeral_to(APPROVER_2, "Approve on your phone").await;
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Paused, "not yet");
    app.w.okta.oidc().set_push_result("SUCCESS");
    app.wait_state(&p.id, State::Completed).await;
    app.wait_thread(&p, "Continued by <@U0003> — confirmed with Okta Verify")
        .await;
}

#[tokio::test]
async fn a_push_whose_answer_fails_is_never_sent_twice() {
    let app = spawn_push().start().await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    app.w.okta.oidc().fail_after_push(1, 502);
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app
        .ephemeral_to(APPROVER, "Okta failed while sending")
        .await;
    assert!(
        msg.contains("If a push still reaches your phone, ignore it: it will not count. Nothing was recorded; click again for a new push."),
        "{msg}"
    );
    assert_eq!(
        app.w.okta.oidc().pushes().len(),
        1,
        "a 5xx after Okta pushed must not push again"
    );
    app.assert_not_recorded(&p.id).await;
    // The failed push holds nothing: the next click sends a new one, which counts.
    app.w.okta.oidc().set_push_result("SUCCESS");
    app.click(APPROVER, &p, "approve").await;
    app.ephemeral_to(APPROVER, "Approve on your phone").await;
    assert_eq!(app.w.okta.oidc().pushes().len(), 2);
    app.wait_state(&p.id, State::Completed).await;
}

/// Okta's factor operations take an OAuth access token like the rest of the API (`listFactors`
/// and the poll need `okta.users.read`, `verifyFactor` `okta.users.manage`): a bot on a service
/// app with DPoP gets its approvals confirmed the same way.
#[tokio::test]
async fn a_push_is_confirmed_when_the_bot_signs_in_to_okta_with_oauth_and_dpop() {
    use crate::okta_engine::{oauth, with_apps, CLIENT_ID};
    use okta_reset::sim::okta::test_keys;
    use okta_reset::sim::okta::SimOAuthApp;
    let app = spawn_with()
        .okta(with_apps(vec![SimOAuthApp::rsa(CLIENT_ID).dpop()]))
        .config(|c| {
            oauth(c);
            if let okta_reset::config::OktaAuthConfig::OAuth(o) = &mut c.okta.auth {
                o.dpop = true;
            }
            c.policy.step_up = StepUpMode::OktaVerifyPush;
        })
        .env("OKTA_PRIVATE_KEY", test_keys::rsa_private())
        .start()
        .await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    app.w.okta.oidc().set_push_result("SUCCESS");
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    app.ephemeral_to(APPROVER, "Approve on your phone").await;
    app.wait_state(&p.id, State::Completed).await;
    assert_eq!(app.w.okta.oidc().pushes().len(), 1);
    app.assert_audited(&p.id, &["step_up_started", "step_up_confirmed", "approved"])
        .await;
}

/// A service app without `okta.users.manage` (reads only) may look users up, but Okta refuses
/// its push (403, `verifyFactor` needs the scope): the approver is told, nothing is recorded.
#[tokio::test]
async fn a_service_app_without_users_manage_cannot_push_and_nothing_is_recorded() {
    use crate::okta_engine::{with_apps, CLIENT_ID};
    use okta_reset::config::{OAuthConfig, OktaAuthConfig};
    use okta_reset::sim::okta::test_keys;
    use okta_reset::sim::okta::SimOAuthApp;
    const READS: [&str; 3] = ["okta.users.read", "okta.groups.read", "okta.roles.read"];
    let app = spawn_with()
        .okta(with_apps(vec![SimOAuthApp::rsa(CLIENT_ID).scopes(&READS)]))
        .config(|c| {
            c.okta.auth = OktaAuthConfig::OAuth(OAuthConfig {
                client_id: CLIENT_ID.into(),
                private_key_path: None,
                key_id: None,
                scopes: READS.iter().map(|s| s.to_string()).collect(),
                dpop: false,
            });
            c.policy.step_up = StepUpMode::OktaVerifyPush;
        })
        .env("OKTA_PRIVATE_KEY", test_keys::rsa_private())
        .start()
        .await;
    app.w.okta.oidc().enroll_push("bob@example.com");
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app
        .ephemeral_to(APPROVER, "Okta could not send the push")
        .await;
    assert!(msg.contains("nothing was recorded"), "{msg}");
    assert!(app.w.okta.oidc().pushes().is_empty());
    app.assert_not_recorded(&p.id).await;
}
