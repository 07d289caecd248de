//! `okta-reset check` with `policy.step_up`: what is missing, in plain words.

use okta_reset::check;
use okta_reset::config::StepUpMode;
use okta_reset::sim::okta::oidc::SIM_OIDC_CLIENT_SECRET;
use okta_reset::sim::world::{World, WorldOptions};

use crate::step_up_helpers::oidc;

async fn world(tweak: fn(&mut okta_reset::config::Config)) -> World {
    World::start(WorldOptions {
        tweak: Box::new(tweak),
        env: vec![(
            "OKTA_OIDC_CLIENT_SECRET".into(),
            SIM_OIDC_CLIENT_SECRET.into(),
        )],
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn oidc_reads_the_discovery_document_and_the_keys() {
    let w = world(oidc).await;
    let r = check::run(&w.config, &w.secrets).await;
    assert!(r.safe_to_start(), "{r}");
    let text = r.to_string();
    assert!(
        text.contains("ok   Step-up (okta_oidc): discovery document and JWKS (1 signing key(s)) read from http://127.0.0.1:")
            && text.contains("the Web app must allow the sign-in redirect URI https://okta-reset.example.com/auth/okta/callback"),
        "{text}"
    );
}

#[tokio::test]
async fn oidc_with_a_wrong_issuer_is_named() {
    let w = world(|c| {
        oidc(c);
        let o = c.okta.oidc.as_mut().unwrap();
        o.issuer = o.issuer.replace("/oauth2/default", "/oauth2/nope");
    })
    .await;
    let r = check::run(&w.config, &w.secrets).await;
    let p = r.problems();
    assert_eq!(p.len(), 1, "{r}");
    assert!(
        p[0].starts_with("Step-up (okta_oidc): the discovery document could not be read from")
            || p[0].starts_with("Step-up (okta_oidc): the discovery document at"),
        "{p:?}"
    );
    assert!(p[0].contains("check okta.oidc.issuer"), "{p:?}");
}

#[tokio::test]
async fn push_names_each_approver_without_a_push_factor() {
    let w = world(|c| c.policy.step_up = StepUpMode::OktaVerifyPush).await;
    w.okta.oidc().enroll_push("bob@example.com");
    let r = check::run(&w.config, &w.secrets).await;
    let text = r.to_string();
    assert!(
        text.contains("ok   Step-up (okta_verify_push): approver U0002 (bob@example.com) has an active Okta Verify push factor"),
        "{text}"
    );
    assert_eq!(
        r.problems(),
        vec!["Step-up (okta_verify_push): approver U0003 (carol@example.com) has no active Okta Verify push factor, so they could not approve; have them enrol Okta Verify"]
    );
}
