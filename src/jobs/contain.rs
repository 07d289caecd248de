//! `--contain` (issue 16): after a user's successful reset, end everything they hold —
//! `DELETE /api/v1/users/{id}/sessions?oauthTokens=true&forgetDevices=true` — and journal that
//! step per user beside the reset's outcome (`targets.sessions`).
//!
//! The revocation is idempotent, so it needs no in-flight mark: a user whose reset is journalled
//! but whose revocation is not (the bot died between the two, or a replica took the run over)
//! gets only the revocation when the run resumes, never a second reset.
//!
//! A revocation that still fails after the client's retries (5xx, timeouts, 429 waits) marks the
//! user *reset, sessions not ended* with the reason, and the run goes on: the password is already
//! reset, and stopping would leave the remaining users with neither. Even an error that would
//! stop a reset (401, 403) only marks this user: if it is systemic, the next reset call meets it
//! and stops the run as usual.

use std::sync::Arc;

use serde_json::json;

use super::journal;
use crate::service::Service;
use crate::store::{Outcome, RequestRecord, Sessions, TargetRecord};

/// Ends the sessions of one user just reset, and journals the result. Does nothing for a request
/// without `--contain`, a user not reset, or one whose step is already journalled.
pub(super) async fn after_reset(svc: &Arc<Service>, r: &RequestRecord, t: &TargetRecord) {
    if !r.contain || t.sessions.is_some() {
        return;
    }
    let Some(okta_id) = t.target.okta_id.as_deref() else {
        return;
    };
    let (state, reason) = match svc.okta.revoke_sessions(okta_id).await {
        Ok(()) => (Sessions::Ended, None),
        Err(e) => (
            Sessions::NotEnded,
            Some(format!(
                "reset, but its sessions could not be ended ({e}): end them in the Okta Admin Console (People → user → Clear User Sessions)"
            )),
        ),
    };
    let write = || {
        svc.store
            .set_sessions(r.id.as_str(), t.seq, state, reason.as_deref())
    };
    if journal::durably(svc, "sessions outcome", write)
        .await
        .is_err()
    {
        // Shutting down with the store away: not journalled, so the resume ends them again
        // (harmless: the call is idempotent).
        return;
    }
    svc.audit(
        Some(r.id.as_str()),
        None,
        "user_sessions",
        json!({
            "okta_id": okta_id,
            "login": t.target.login,
            "sessions": state,
            "reason": reason,
        }),
    )
    .await;
}

/// Users of a resumed (or continued) run whose reset is journalled but whose revocation is not:
/// each gets only the revocation, `concurrency` at a time.
pub(super) async fn finish_unended(
    svc: &Arc<Service>,
    r: &RequestRecord,
    all: &[TargetRecord],
    stop: impl Fn() -> bool,
) {
    if !r.contain {
        return;
    }
    let owed: Vec<&TargetRecord> = all
        .iter()
        .filter(|t| t.outcome == Outcome::Reset && t.sessions.is_none())
        .collect();
    if owed.is_empty() {
        return;
    }
    tracing::info!(
        users = owed.len(),
        "ending the sessions of users reset before the interruption"
    );
    use futures::StreamExt;
    futures::stream::iter(owed)
        .for_each_concurrent(svc.config.okta.concurrency, |t| async {
            if !stop() {
                after_reset(svc, r, t).await;
            }
        })
        .await;
}
