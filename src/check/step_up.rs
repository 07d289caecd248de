//! `okta-reset check` for `policy.step_up`: with `okta_oidc` the issuer's discovery document
//! and JWKS are read (and the redirect URI to register is named); with `okta_verify_push` each
//! approver listed by ID is looked up in Okta by their Slack email and their factors listed.

use std::sync::Arc;

use super::Report;
use crate::config::{Config, Secrets, StepUpMode};
use crate::service::step_up::{identity, oidc};
use crate::slack::outbound::SlackOut;

pub(super) async fn run(config: &Config, secrets: &Secrets, r: &mut Report) {
    match config.policy.step_up {
        StepUpMode::None => {}
        StepUpMode::OktaOidc => check_oidc(config, secrets, r).await,
        StepUpMode::OktaVerifyPush => check_push(config, secrets, r).await,
    }
}

async fn check_oidc(config: &Config, secrets: &Secrets, r: &mut Report) {
    let (Some(o), Some(base)) = (&config.okta.oidc, &config.server.public_url) else {
        return r.fail("Step-up (okta_oidc): [okta.oidc] or server.public_url is missing");
    };
    let Some(secret) = secrets.okta_oidc_client_secret.clone() else {
        return r.fail("Step-up (okta_oidc): OKTA_OIDC_CLIENT_SECRET is not set: copy the OIDC Web app's client secret (Applications → your app → General → Client Credentials)");
    };
    let p = oidc::Provider::new(o.clone(), secret, base);
    if let Err(why) = p.discovery().await {
        return r.fail(format!(
            "Step-up (okta_oidc): {why}; check okta.oidc.issuer (your org's URL, or https://…/oauth2/<id> for a custom authorization server)"
        ));
    }
    match p.refresh_keys().await {
        Ok(0) => r.fail(format!(
            "Step-up (okta_oidc): the JWKS of {} lists no RSA signing key, so no ID token could be checked",
            o.issuer
        )),
        Ok(n) => r.ok(format!(
            "Step-up (okta_oidc): discovery document and JWKS ({n} signing key(s)) read from {}; the Web app must allow the sign-in redirect URI {}",
            o.issuer, p.redirect_uri
        )),
        Err(why) => r.fail(format!("Step-up (okta_oidc): {why}")),
    }
}

async fn check_push(config: &Config, secrets: &Secrets, r: &mut Report) {
    let okta = match crate::okta::client_from_config(
        &config.okta,
        secrets,
        Arc::new(crate::clock::SystemClock),
    ) {
        Ok(c) => c,
        Err(e) => {
            return r.fail(format!(
                "Step-up (okta_verify_push): cannot build the Okta client: {e}"
            ))
        }
    };
    let slack = match SlackOut::new(&config.slack.api_url, &secrets.slack_bot_token) {
        Ok(s) => s,
        Err(e) => {
            return r.fail(format!(
                "Step-up (okta_verify_push): cannot build the Slack client: {e}"
            ))
        }
    };
    for user in &config.policy.approvers.users {
        let u = user.as_str();
        let account = match identity::okta_account(&slack, &okta, u).await {
            Ok(a) => a,
            Err(why) => {
                r.fail(format!("Step-up (okta_verify_push): approver {u}: {why}"));
                continue;
            }
        };
        match okta.push_factor(&account.id).await {
            Ok(Some(_)) => r.ok(format!(
                "Step-up (okta_verify_push): approver {u} ({}) has an active Okta Verify push factor",
                account.login
            )),
            Ok(None) => r.fail(format!(
                "Step-up (okta_verify_push): approver {u} ({}) has no active Okta Verify push factor, so they could not approve; have them enrol Okta Verify",
                account.login
            )),
            Err(e) => r.fail(format!(
                "Step-up (okta_verify_push): the bot cannot list factors ({e}): the API token's admin (or the service app) needs okta.users.manage, which verifying a push also needs"
            )),
        }
    }
}
