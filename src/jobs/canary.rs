//! The canary (`policy.canary_users`): a run starts only its first N users, then pauses in the
//! store (`paused`) until an approver clicks Continue (`service/canary.rs`). The pause is state,
//! not memory: a restart leaves it paused, and nothing resumes it but a Continue.

use std::sync::Arc;

use serde_json::json;

use super::{journal, request_state};
use crate::domain::approvals::canary_allowance;
use crate::domain::request::{Event, State};
use crate::service::Service;
use crate::slack::outbound::Message;
use crate::slack::render::{self, Progress};
use crate::store::{RequestRecord, SignOffKind};

/// How many of the `pending` users this run may start before it pauses (`None`: all of them).
/// `done` users already have an outcome. `Err` only when the bot is shutting down.
pub(super) async fn allowance(
    svc: &Service,
    id: &str,
    done: usize,
    pending: usize,
) -> Result<Option<usize>, ()> {
    let Some(n) = svc.config.policy.canary_users else {
        return Ok(None);
    };
    let sign_offs = journal::durably(svc, "sign-offs", || svc.store.sign_offs(id)).await?;
    let continued = sign_offs.iter().any(|s| s.kind == SignOffKind::Continue);
    Ok(canary_allowance(Some(n), continued, done, pending))
}

/// Pauses the run after its canary if users remain, and says so where the approvers look (the
/// progress message gets the Continue button; a thread line notifies). False if there was
/// nothing to pause (no user left, or the run was cancelled meanwhile): the caller finishes it.
pub(super) async fn pause(svc: &Arc<Service>, r: &RequestRecord, p: &Progress) -> bool {
    let id = r.id.as_str();
    let Ok(left) = journal::durably(svc, "pending users", || svc.store.pending_resets(id)).await
    else {
        return true; // shutting down: the run stays running and resumes (and pauses) later
    };
    if left.is_empty() {
        return false;
    }
    let now = svc.now();
    let pause = || request_state::advance(svc, r, State::Running, Event::Pause, now);
    match journal::durably(svc, "canary pause", pause).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(()) => return true,
    }
    svc.audit(
        Some(id),
        None,
        "run_paused_for_canary",
        json!({"done": p.done, "reset": p.reset, "failed": p.failed, "remaining": left.len()}),
    )
    .await;
    let paused = render::canary_paused(id, p, now);
    let progress_ts = match svc.store.get_request(id).await {
        Ok(Some(now)) => now.progress_ts,
        _ => r.progress_ts.clone(),
    };
    // The Continue button is taken only on the message it is shown on (`continue_ts`).
    let carry = |ts: String| async move {
        if let Err(e) = svc.store.set_continue_ts(id, &ts).await {
            tracing::error!(request = id, error = %e, "could not record the message with the Continue button");
        }
    };
    if let Some(ts) = &progress_ts {
        carry(ts.clone()).await;
    }
    let shown = match &progress_ts {
        Some(ts) => match svc.slack.update(r.channel_id.as_str(), ts, &paused).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(request = id, error = %e, "could not show the canary pause in the progress message");
                false
            }
        },
        None => false,
    };
    if shown {
        svc.say_in_thread(
            r,
            &Message::text(format!(
                "⏸️ Canary: {} users reset; check them, then an approver clicks Continue on the progress message above. {} more wait; to stop here: `/okta-reset cancel {id}`.",
                p.done,
                left.len()
            )),
        )
        .await;
    } else {
        // No progress message to carry the button: the notice carries it.
        if let Some(ts) = svc.say_in_thread(r, &paused).await {
            carry(ts).await;
        }
    }
    svc.refresh_root(id).await;
    true
}
