//! The approver's browser side of `okta_oidc`: `GET /auth/okta/start?t=TOKEN` sends the browser
//! to Okta; `GET /auth/okta/callback` takes Okta's answer, checks it and records the approval.
//! Not Slack-signed (a browser calls them): every step is bound to the stored confirmation and
//! single use. Pages are short, plain and HTML-escaped.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use slack_morphism::prelude as sm;

use super::oidc::{plain, random_token, sha256_hex, Expect, Provider};
use super::Evidence;
use crate::service::Service;
use crate::slack::outbound::Message;
use crate::store::{StepUpClaim, StepUpKey, StepUpRecord, StepUpState};

#[derive(Clone)]
pub struct WebState {
    pub svc: Arc<Service>,
    pub provider: Arc<Provider>,
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/auth/okta/start", get(start))
        .route("/auth/okta/callback", get(callback))
        .with_state(state)
}

/// The ephemeral with the link button (a URL button: Slack opens it; its click is ignored).
pub fn link_message(text: &str, link: &str) -> Message {
    let mut blocks = vec![sm::SlackBlock::Section(
        sm::SlackSectionBlock::new().with_text(sm::SlackBlockText::MarkDown(
            sm::SlackBlockMarkDownText::new(text.to_string()),
        )),
    )];
    if let Ok(url) = url::Url::parse(link) {
        blocks.push(sm::SlackBlock::Actions(sm::SlackActionsBlock::new(vec![
            sm::SlackActionBlockElement::Button(
                sm::SlackBlockButtonElement::new(sm::SlackBlockPlainTextOnly::from(
                    "Confirm in Okta".to_string(),
                ))
                .with_action_id(sm::SlackActionId("step_up_open".into()))
                .with_url(url)
                .with_style(sm::SlackBlockButtonStyle::Primary),
            ),
        ])));
    }
    Message {
        text: text.to_string(),
        blocks,
    }
}

async fn start(State(st): State<WebState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let svc = &st.svc;
    let Some(token) = q.get("t").filter(|t| !t.is_empty()) else {
        return refuse(
            svc,
            None,
            false,
            StatusCode::BAD_REQUEST,
            "This link carries no confirmation token. Click Approve in Slack again.",
        )
        .await;
    };
    let hash = sha256_hex(token.as_bytes());
    let now = svc.now();
    let claim = svc
        .store
        .claim_step_up(
            StepUpKey::Token(&hash),
            StepUpState::Issued,
            StepUpState::Started,
            now,
        )
        .await;
    let rec = match claim {
        Err(e) => return store_down(e),
        Ok(StepUpClaim::Unknown) => {
            return refuse(
                svc,
                None,
                false,
                StatusCode::NOT_FOUND,
                "This confirmation link is not known. Click Approve in Slack again for a new one.",
            )
            .await
        }
        Ok(StepUpClaim::Spent(rec)) => {
            let why = if rec.state == StepUpState::Superseded {
                "This confirmation link was replaced by a newer one (you clicked again): use the newest link."
            } else {
                "This confirmation link was already used; each link works once. Click Approve in Slack again for a new one."
            };
            return refuse(svc, Some(&rec), false, StatusCode::GONE, why).await;
        }
        Ok(StepUpClaim::Claimed(rec)) => rec,
    };
    if now > rec.expires_at {
        return refuse(svc, Some(&rec), true, StatusCode::GONE, "This confirmation link has expired (links work for 5 minutes). Click Approve in Slack again for a new one.").await;
    }
    let (state, nonce, verifier) = (random_token(), random_token(), random_token());
    if let Err(e) = svc
        .store
        .set_step_up_oidc(
            &hash,
            &sha256_hex(state.as_bytes()),
            &sha256_hex(nonce.as_bytes()),
            &verifier,
        )
        .await
    {
        return store_down(e);
    }
    match st
        .provider
        .authorize_url(&state, &nonce, &verifier, &rec.okta_login)
        .await
    {
        Ok(url) => (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response(),
        Err(why) => {
            tracing::warn!(%why, "Okta's discovery document could not be read");
            refuse(svc, Some(&rec), true, StatusCode::BAD_GATEWAY, &format!("Okta could not be reached to confirm ({why}); nothing was recorded. Try again shortly.")).await
        }
    }
}

async fn callback(
    State(st): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let svc = &st.svc;
    let Some(state) = q.get("state").filter(|s| !s.is_empty()) else {
        return refuse(svc, None, false, StatusCode::BAD_REQUEST, "Okta's answer carries no state, so it cannot be matched to a confirmation; nothing was recorded.").await;
    };
    let now = svc.now();
    let claim = svc
        .store
        .claim_step_up(
            StepUpKey::OidcState(&sha256_hex(state.as_bytes())),
            StepUpState::Started,
            StepUpState::Checking,
            now,
        )
        .await;
    let rec = match claim {
        Err(e) => return store_down(e),
        Ok(StepUpClaim::Unknown) => {
            return refuse(svc, None, false, StatusCode::BAD_REQUEST, "The state in Okta's answer does not match any confirmation in progress (altered, or from another sign-in); nothing was recorded.").await
        }
        Ok(StepUpClaim::Spent(rec)) => {
            return refuse(svc, Some(&rec), false, StatusCode::CONFLICT, "This sign-in answer was already used (a replayed callback); nothing was recorded.").await
        }
        Ok(StepUpClaim::Claimed(rec)) => rec,
    };
    if let Some(error) = q.get("error") {
        let why = format!(
            "Okta answered {}{}; nothing was recorded.",
            plain(error),
            q.get("error_description")
                .map(|d| format!(" ({})", plain(d)))
                .unwrap_or_default()
        );
        return refuse(svc, Some(&rec), true, StatusCode::FORBIDDEN, &why).await;
    }
    if now > rec.expires_at {
        return refuse(svc, Some(&rec), true, StatusCode::GONE, "The confirmation took longer than 5 minutes from your click and has expired; nothing was recorded. Click Approve in Slack again.").await;
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty()) else {
        return refuse(
            svc,
            Some(&rec),
            true,
            StatusCode::BAD_REQUEST,
            "Okta's answer carries no code; nothing was recorded.",
        )
        .await;
    };
    let (Some(verifier), Some(nonce_hash)) = (rec.pkce_verifier.clone(), rec.nonce_hash.clone())
    else {
        return refuse(
            svc,
            Some(&rec),
            true,
            StatusCode::BAD_REQUEST,
            "This confirmation was never sent to Okta; nothing was recorded.",
        )
        .await;
    };
    let expect = Expect {
        okta_user: &rec.okta_user,
        nonce_hash: &nonce_hash,
        clicked_at: rec.clicked_at,
        now,
    };
    let sign_in = match st.provider.redeem(code, &verifier, &expect).await {
        Ok(s) => s,
        Err(why) => {
            let why = if why.ends_with("nothing was recorded") {
                format!("{why}.")
            } else {
                format!("{why}; nothing was recorded.")
            };
            return refuse(svc, Some(&rec), true, StatusCode::FORBIDDEN, &why).await;
        }
    };
    let ev = Evidence {
        amr: Some(sign_in.amr.join(" ")),
        auth_time: sign_in.auth_time,
        detail: json!({
            "okta_user": sign_in.sub,
            "auth_time": sign_in.auth_time,
            "amr": sign_in.amr,
            "acr": sign_in.acr,
            "id_token_sha256": sign_in.id_token_sha256,
        }),
    };
    match svc.step_up_confirmed(&rec, ev).await {
        Ok(text) => page(StatusCode::OK, "Confirmed", &text),
        Err(why) => refuse(svc, Some(&rec), true, StatusCode::CONFLICT, &why).await,
    }
}

/// Audits, tells the approver (when known) and answers with the reason.
async fn refuse(
    svc: &Arc<Service>,
    rec: Option<&StepUpRecord>,
    settle: bool,
    status: StatusCode,
    why: &str,
) -> Response {
    svc.step_up_failed(rec, settle, why).await;
    page(status, "Not confirmed", why)
}

fn store_down(e: crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "store failed during an Okta confirmation");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Not confirmed",
        "The bot's store could not be reached; nothing was recorded. Try again shortly.",
    )
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>okta-reset: {t}</title></head>\
         <body><h1>{t}</h1><p>{x}</p></body></html>",
        t = html_escape(title),
        x = html_escape(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The routes' state when `policy.step_up = "okta_oidc"` (start-up already refused a config
/// or environment that lacks what it needs).
pub fn state_for(
    svc: &Arc<Service>,
    config: &crate::config::Config,
    secrets: &crate::config::Secrets,
) -> Option<WebState> {
    if config.policy.step_up != crate::config::StepUpMode::OktaOidc {
        return None;
    }
    let provider = Provider::new(
        config.okta.oidc.clone()?,
        secrets.okta_oidc_client_secret.clone()?,
        config.server.public_url.as_ref()?,
    );
    Some(WebState {
        svc: svc.clone(),
        provider: Arc::new(provider),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_is_escaped() {
        assert_eq!(
            super::html_escape("<b>\"R&D\"</b> 'x'"),
            "&lt;b&gt;&quot;R&amp;D&quot;&lt;/b&gt; &#39;x&#39;"
        );
    }
}
