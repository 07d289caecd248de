//! Inbound Slack over HTTP. Every POST is size-capped and signature-checked before anything else
//! reads it; Slack gets its acknowledgement at once and the work runs in the background.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::clock::{Clock, SystemClock};
use crate::domain::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};
use crate::secret::Secret;
use crate::service::{Action, DecisionKind, Service, SlashCommand};
use crate::slack::events::{self, Envelope};
use crate::slack::modal;
use crate::slack::render::{APPROVE, DENY};
use crate::slack::replay;
use crate::slack::verify::verify;

#[derive(Clone)]
pub struct HttpState {
    pub svc: Arc<Service>,
    pub signing_secret: Secret,
}

pub fn router(state: HttpState, body_limit: usize) -> Router {
    let slack = Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactions", post(interactions))
        .route("/slack/events", post(events))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            verify_signature,
        ))
        .layer(RequestBodyLimitLayer::new(body_limit));
    Router::new()
        .merge(slack)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(10),
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Reads the (already size-capped) body and checks Slack's signature over it. Signature
/// windows use the system clock: they are about transport, not about request state.
async fn verify_signature(State(st): State<HttpState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(e) = verify(
        st.signing_secret.expose(),
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        &bytes,
        SystemClock.now_secs(),
    ) {
        tracing::warn!(path = %parts.uri.path(), reason = %e, "refused an unsigned or badly signed request");
        return (StatusCode::UNAUTHORIZED, format!("refused: {e}")).into_response();
    }
    let signature = header("x-slack-signature").unwrap_or_default();
    if let Some(refused) = replay::refuse_replay(&st.svc, parts.uri.path(), signature).await {
        return refused;
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn readyz(State(st): State<HttpState>) -> Response {
    match st.svc.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "store not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
        }
    }
}

fn ephemeral(text: impl Into<String>) -> Response {
    Json(json!({"response_type": "ephemeral", "text": text.into()})).into_response()
}

#[derive(Deserialize)]
struct SlashForm {
    team_id: String,
    channel_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trigger_id: String,
}

async fn commands(State(st): State<HttpState>, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<SlashForm>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a slash command").into_response();
    };
    let (Ok(team), Ok(channel), Ok(user)) = (
        SlackTeamId::parse(&form.team_id),
        SlackChannelId::parse(&form.channel_id),
        SlackUserId::parse(&form.user_id),
    ) else {
        return ephemeral("This request did not carry valid Slack IDs and was ignored.");
    };
    let cmd = SlashCommand {
        team,
        channel,
        user,
        text: form.text,
        trigger_id: form.trigger_id,
    };
    // Acknowledge within Slack's 3 s: what is not done by then goes on in the background.
    let svc = st.svc.clone();
    let work = tokio::spawn(async move { svc.on_slash(cmd).await });
    match tokio::time::timeout(Duration::from_millis(2500), work).await {
        // The form opened: Slack shows it, and nothing else is said.
        Ok(Ok(text)) if text.is_empty() => StatusCode::OK.into_response(),
        Ok(Ok(text)) => ephemeral(text),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "slash command handler failed");
            ephemeral("Something went wrong on the bot's side; nothing was changed.")
        }
        Err(_) => ephemeral("Still working on it; the answer will follow here."),
    }
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

async fn interactions(State(st): State<HttpState>, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<InteractionForm>(&body) else {
        return (StatusCode::BAD_REQUEST, "missing payload").into_response();
    };
    // Parsed by hand: slack-morphism 2.31.1 rejects `team: null` (org-wide installs).
    let Ok(p) = serde_json::from_str::<Value>(&form.payload) else {
        return (StatusCode::BAD_REQUEST, "payload is not JSON").into_response();
    };
    if p.get("type").and_then(Value::as_str) == Some("view_submission") {
        return view_submission(&st, &p).await;
    }
    match parse_block_action(&p) {
        Some(action) => {
            let svc = st.svc.clone();
            tokio::spawn(async move { svc.on_action(action).await });
        }
        None => tracing::debug!("ignored an interaction that is not one of our buttons"),
    }
    StatusCode::OK.into_response()
}

/// A click on Approve or Deny, from an interaction payload (public for the fuzz target).
pub fn parse_block_action(p: &Value) -> Option<Action> {
    if p.get("type")?.as_str()? != "block_actions" {
        return None;
    }
    let action = p.get("actions")?.as_array()?.first()?;
    let decision = match action.get("action_id")?.as_str()? {
        APPROVE => DecisionKind::Approve,
        DENY => DecisionKind::Deny,
        _ => return None,
    };
    let team = match p.get("team") {
        Some(Value::Object(t)) => Some(SlackTeamId::parse(t.get("id")?.as_str()?).ok()?),
        _ => None,
    };
    let channel = p
        .pointer("/container/channel_id")
        .or_else(|| p.pointer("/channel/id"))?
        .as_str()?;
    Some(Action {
        team,
        user: SlackUserId::parse(p.pointer("/user/id")?.as_str()?).ok()?,
        channel: SlackChannelId::parse(channel).ok()?,
        decision,
        request: RequestId::parse(action.get("value")?.as_str()?).ok()?,
        message_ts: p
            .pointer("/container/message_ts")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The request form's submission. Errors go back into the form while Slack waits (about 3 s);
/// an answer that takes longer (a slow download) closes the form and follows as a message.
async fn view_submission(st: &HttpState, p: &Value) -> Response {
    let Some(sub) = modal::parse_submission(p) else {
        tracing::debug!("ignored a view submission that is not our form");
        return StatusCode::OK.into_response();
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let svc = st.svc.clone();
    tokio::spawn(async move { svc.on_form(sub, tx).await });
    match tokio::time::timeout(Duration::from_millis(2500), rx).await {
        Ok(Ok(Err(errors))) => Json(modal::errors_response(&errors)).into_response(),
        _ => StatusCode::OK.into_response(),
    }
}

/// Events API: answered at once; the work (deduplication in the store first) goes on in the
/// background, so Slack never waits past its 3 s.
async fn events(State(st): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    match events::parse(&v) {
        Envelope::UrlVerification { challenge } => {
            Json(json!({ "challenge": challenge })).into_response()
        }
        Envelope::Callback(cb) => {
            let retry = headers
                .get("x-slack-retry-num")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let svc = st.svc.clone();
            tokio::spawn(async move { svc.on_event(*cb, retry).await });
            StatusCode::OK.into_response()
        }
        Envelope::Other => StatusCode::OK.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_actions_parse_with_and_without_a_team() {
        let mut p = json!({
            "type": "block_actions",
            "user": {"id": "U0002"},
            "team": {"id": "T0001"},
            "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0001"},
            "actions": [{"action_id": "approve", "value": "R-ABCDEFGH"}]
        });
        let a = parse_block_action(&p).unwrap();
        assert_eq!(a.team.unwrap().as_str(), "T0001");
        assert_eq!(a.decision, DecisionKind::Approve);
        assert_eq!(a.request.as_str(), "R-ABCDEFGH");
        p["team"] = Value::Null;
        assert!(parse_block_action(&p).unwrap().team.is_none());
        p["actions"][0]["action_id"] = json!("something_else");
        assert!(parse_block_action(&p).is_none());
    }
}
