//! Replay refusal: a correctly signed request is accepted once. Its signature (an HMAC over the
//! timestamp and the whole body) is claimed (hashed) in the store's `seen_events` table under
//! `signature:…`, so every replica sharing the store refuses a copy, not only the one that saw the
//! original. The 5-minute timestamp window (verify.rs) bounds how long a copy could be useful;
//! claims are forgotten with the other event keys, long after that window.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::service::Service;

/// What a replayed request is told. No detail: the sender is an attacker or a confused proxy.
pub const REPLAYED: &str = "refused: this signed request was already received";

/// The store key a signature is claimed under: its SHA-256, so the store holds nothing taken
/// from a request as sent.
pub fn key(signature: &str) -> String {
    use sha2::{Digest, Sha256};
    format!(
        "signature:{}",
        hex::encode(Sha256::digest(signature.as_bytes()))
    )
}

/// `None` when the request is new (and now claimed); otherwise the answer to send instead.
///
/// Events are answered 200 even when replayed: Slack retries anything else, and the Events API
/// has its own `event_id` deduplication behind this; nothing is done with the body either way.
pub async fn refuse_replay(svc: &Service, path: &str, signature: &str) -> Option<Response> {
    match svc.store.claim_event(&key(signature), svc.now()).await {
        Ok(true) => None,
        Ok(false) => {
            tracing::warn!(%path, "refused a replayed request (its signature was already seen)");
            Some(if path == "/slack/events" {
                StatusCode::OK.into_response()
            } else {
                (StatusCode::UNAUTHORIZED, REPLAYED).into_response()
            })
        }
        Err(e) => {
            // Without the store a replay cannot be told from a first delivery: refuse, Slack
            // shows the person an error and nothing is done twice.
            tracing::error!(error = %e, "store unavailable for the replay check");
            Some((StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response())
        }
    }
}
