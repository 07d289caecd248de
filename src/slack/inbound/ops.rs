//! The operator's side of the HTTP server: `/metrics`, and the request id span and outcome
//! count around every inbound request.

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tracing::Instrument;

/// `GET /metrics` in the Prometheus text format.
pub fn metrics_router() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(CONTENT_TYPE, "text/plain; version=0.0.4")],
                crate::metrics::render(),
            )
                .into_response()
        }),
    )
}

/// A short random id for one inbound request (or Socket Mode envelope), on every log line it
/// causes, including those of the tasks it spawns.
pub fn new_request_id() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// Wraps each request in a `http` span with its id, method and path (never the body), and counts
/// it by route and outcome.
pub async fn request_span(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let span =
        tracing::info_span!("http", rid = %new_request_id(), method = %req.method(), path = %path);
    let started = std::time::Instant::now();
    let resp = next.run(req).instrument(span.clone()).await;
    let (status, ms) = (resp.status().as_u16(), started.elapsed().as_millis());
    // People's commands and clicks at info; channel chatter (events) and probes at debug.
    if matches!(path.as_str(), "/slack/commands" | "/slack/interactions") {
        span.in_scope(|| tracing::info!(status, ms, "answered"));
    } else {
        span.in_scope(|| tracing::debug!(status, ms, "answered"));
    }
    let route = match path.as_str() {
        "/slack/commands" | "/slack/interactions" | "/slack/events" => path.as_str(),
        // Probes are not counted: they would drown the figures that matter.
        "/healthz" | "/readyz" | "/metrics" => return resp,
        _ => "other",
    };
    let outcome = match resp.status().as_u16() {
        200..=299 => "ok",
        401 => "unsigned",
        413 => "too_large",
        400..=499 => "refused",
        _ => "error",
    };
    crate::metrics::request(route, outcome);
    resp
}
