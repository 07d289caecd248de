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
use serde_json::Value;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::clock::{Clock, SystemClock};
use crate::secret::{ExposeSecret, Secret};
use crate::service::Service;
use crate::slack::replay;
use crate::slack::verify::verify;

pub mod handle;
pub mod ops;
pub use handle::{Ack, SlashForm};

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
        st.signing_secret.expose_secret(),
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

/// Ready when the store answers and the last Okta contact (if any) did not find the token
/// refused or Okta unreachable. `/healthz` is liveness only.
async fn readyz(State(st): State<HttpState>) -> Response {
    use crate::metrics::OktaHealth;
    if let Err(e) = st.svc.store.ping().await {
        tracing::warn!(error = %e, "store not ready");
        return (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response();
    }
    let (okta, at) = st.svc.okta.last_contact();
    let ago = SystemClock.now_secs() - at;
    match okta {
        OktaHealth::Unknown | OktaHealth::Answering => (StatusCode::OK, "ready").into_response(),
        OktaHealth::TokenRefused => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("okta: the API token was refused (401) {ago} s ago"),
        )
            .into_response(),
        OktaHealth::Unreachable => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("okta: unreachable {ago} s ago"),
        )
            .into_response(),
    }
}

impl IntoResponse for Ack {
    fn into_response(self) -> Response {
        match self {
            Ack::Empty => StatusCode::OK.into_response(),
            Ack::Json(v) => Json(v).into_response(),
            Ack::Malformed(why) => (StatusCode::BAD_REQUEST, why).into_response(),
        }
    }
}

async fn commands(State(st): State<HttpState>, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<SlashForm>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a slash command").into_response();
    };
    handle::slash(&st.svc, form).await.into_response()
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

async fn interactions(State(st): State<HttpState>, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<InteractionForm>(&body) else {
        return (StatusCode::BAD_REQUEST, "missing payload").into_response();
    };
    let Ok(p) = serde_json::from_str::<Value>(&form.payload) else {
        return (StatusCode::BAD_REQUEST, "payload is not JSON").into_response();
    };
    handle::interaction(&st.svc, &p).await.into_response()
}

async fn events(State(st): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let retry = headers
        .get("x-slack-retry-num")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    handle::event(&st.svc, &v, retry).into_response()
}
