//! Issue 17 point 1: under OAuth with DPoP, a long paced run loses nobody. Each call's proof and
//! token are made when it is sent, after the pacer's wait; a refused proof is re-signed once; a
//! token renewal reaches the calls already queued.

use std::time::Duration;

use okta_reset::domain::request::State;
use okta_reset::sim::okta::test_keys;
use okta_reset::sim::okta::{BucketLimits, OktaSimConfig, SimOAuthApp, SimOrg};

use crate::helpers::*;
use crate::okta_engine::{oauth, with_apps, CLIENT_ID};

/// Resets paced to about 2.4 a second (6 per 2 s window, share 0.8), so with 8 calls in flight
/// the last ones wait ~3 s in the pacer: three times the proof window below.
fn paced(app: SimOAuthApp) -> OktaSimConfig {
    OktaSimConfig {
        window: Duration::from_secs(2),
        limits: BucketLimits {
            users_post: 6,
            ..BucketLimits::default()
        },
        dpop_proof_max_age: Duration::from_secs(1),
        ..with_apps(vec![app])
    }
}

async fn paced_run(okta: OktaSimConfig, dpop_configured: bool) -> TestApp {
    spawn_with()
        .org(SimOrg::demo().with_generated_group("batch", 12))
        .okta(okta)
        .config(move |c| {
            oauth(c);
            if let okta_reset::config::OktaAuthConfig::OAuth(o) = &mut c.okta.auth {
                o.dpop = dpop_configured;
            }
        })
        .env("OKTA_PRIVATE_KEY", test_keys::rsa_private())
        .start()
        .await
}

async fn run_everyone(app: &TestApp) -> Posted {
    let p = app.request(r#"group:batch reason:"INC-17""#).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread_within(&p, "Run complete", Duration::from_secs(60))
        .await;
    p
}

async fn assert_everyone_reset_once(app: &TestApp, p: &Posted) {
    let r = app.wait_state(&p.id, State::Completed).await;
    assert_eq!(r.reset_count, 12);
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 12);
    for c in &calls {
        assert_eq!(app.w.okta.reset_count(&c.user_id), 1);
    }
    let summary = app.wait_thread(p, "Run complete").await;
    assert!(
        summary.contains("12 reset, 0 skipped, 0 failed"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_long_paced_dpop_run_with_a_short_proof_window_resets_everyone() {
    let app = paced_run(paced(SimOAuthApp::rsa(CLIENT_ID).dpop()), true).await;
    let p = run_everyone(&app).await;
    assert_everyone_reset_once(&app, &p).await;
    let s = app.w.okta.stats();
    // Every proof reached Okta younger than the 1 s window: made after the pacer's wait.
    assert_eq!(s.dpop_proofs_refused, 0);
    // `okta.oauth.dpop`: the first token request carried a proof (then the nonce), instead of
    // learning DPoP from a 400 first.
    assert_eq!((s.token_requests, s.tokens_issued), (2, 1));
}

#[tokio::test]
async fn a_proof_refused_for_its_nonce_is_re_signed_once_and_nobody_fails() {
    let app = paced_run(paced(SimOAuthApp::rsa(CLIENT_ID).dpop()), true).await;
    // From now on the API wants its own nonce in every proof: the first call to learn it is
    // refused (401 use_dpop_nonce), signed again with the nonce, and goes through.
    app.w.okta.require_api_dpop_nonce();
    let p = run_everyone(&app).await;
    assert_everyone_reset_once(&app, &p).await;
    let client = app.w.app.okta.stats();
    assert!(client.resigned >= 1);
    assert_eq!(client.renewals, 0, "a nonce refusal is not a token problem");
    assert_eq!(app.w.okta.stats().dpop_proofs_refused, 0);
}

#[tokio::test]
async fn calls_queued_before_a_token_renewal_go_out_with_the_new_token() {
    let app = paced_run(paced(SimOAuthApp::rsa(CLIENT_ID)), false).await;
    let p = app.request(r#"group:batch reason:"INC-17""#).await;
    app.click(APPROVER, &p, "approve").await;
    tokio::time::timeout(WAIT, async {
        while app.w.okta.reset_calls().len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the run started");
    // The token dies mid-run while calls wait in the pacer: only the next call sent learns it
    // (one 401, one renewal); the queued ones go out with the new token.
    app.w.okta.expire_tokens();
    app.wait_thread_within(&p, "Run complete", Duration::from_secs(60))
        .await;
    assert_everyone_reset_once(&app, &p).await;
    let s = app.w.okta.stats();
    // The resets are what waits in the pacer (6 per 2 s window): before the fix every reset
    // queued there went out with the dead token (up to 8 here). Now a reset meets the dead token
    // only if it was on the wire when the token died, or left the pacer in the moment before
    // the first 401's renewal (the next one leaves ~0.4 s later). The reads that run before each
    // reset are not paced and go out at once, so how many of them meet the dead token depends
    // on how many users start together: they are not counted here.
    assert!(s.unauthorized >= 1, "the dead token was met");
    assert!(
        s.unauthorized_resets <= 2,
        "{} resets sent with the dead token ({} 401s in all)",
        s.unauthorized_resets,
        s.unauthorized
    );
    assert_eq!(s.tokens_issued, 2);
}
