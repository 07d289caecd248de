use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;

use super::progress::{progress_of, progress_ticker, Closing, Counters};
use super::recheck::{self, Recheck};
use super::summary::post_summary;
use super::{canary, contain, journal, lease, notify, recover};
use crate::domain::classify::CHANGED_SINCE_APPROVAL;
use crate::domain::digest::snapshot_digest;
use crate::domain::request::State;
use crate::okta::protected::Protection;
use crate::okta::OktaError;
use crate::service::Service;
use crate::slack::outbound::Message;
use crate::slack::render;
use crate::store::{Outcome, RequestRecord, TargetRecord};
use tracing::Instrument;

/// How long a shutdown waits for the calls in flight to finish and be journalled.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Receives approved request ids and runs each in its own task, until `stop` fires; then lets
/// the runs journal their calls in flight (bounded by `DRAIN`) and returns.
pub async fn run_loop(
    svc: Arc<Service>,
    mut rx: mpsc::UnboundedReceiver<String>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut runs = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            id = rx.recv() => match id {
                Some(id) => {
                    let svc = svc.clone();
                    // Every Okta call of the run names the request in its User-Agent.
                    runs.spawn(crate::okta::client::for_request(id.clone(), run(svc, id)));
                }
                None => break,
            },
            Some(_) = runs.join_next(), if !runs.is_empty() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    svc.begin_shutdown();
    let drained =
        tokio::time::timeout(DRAIN, async { while runs.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            "runs did not finish their calls in flight in time; they resume at the next start"
        );
        runs.abort_all();
    }
}

/// Runs that are approved or under way but held by nobody (at start-up: those this bot was
/// running when it stopped; later: those of a replica that died) are taken on. Leases decide
/// which replica actually runs each.
pub async fn take_over_orphans(svc: &Arc<Service>) {
    match svc.store.runs_without_holder(svc.now()).await {
        Ok(ids) => {
            for id in ids {
                tracing::info!(request = %id, "taking the run on");
                svc.enqueue_run(&id);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not list runs to take on"),
    }
}

pub async fn run(svc: Arc<Service>, id: String) {
    if !svc.begin_running(&id) {
        return;
    }
    let now = svc.now();
    match svc
        .store
        .claim_run(&id, &svc.replica, now, now + svc.lease_ms())
        .await
    {
        Ok(true) => {
            let _timer = crate::metrics::RunTimer::start();
            let lease = lease::hold(svc.clone(), id.clone());
            // Every line the run logs carries its request id.
            async {
                tracing::info!("run held by this replica");
                run_held(&svc, &id, &lease).await;
                tracing::info!("run left (finished, stopped or handed over)");
            }
            .instrument(tracing::info_span!("run", request = %id))
            .await;
            lease.release().await;
        }
        Ok(false) => {} // another replica holds it, or it is no longer approved
        Err(e) => tracing::warn!(request = %id, error = %e, "could not claim the run; will retry"),
    }
    svc.end_running(&id);
}

async fn run_held(svc: &Arc<Service>, id: &str, lease: &lease::Lease) {
    let id = id.to_string();
    let Ok(Some(r)) = svc.store.get_request(&id).await else {
        tracing::error!(request = %id, "approved request not found");
        return;
    };
    let now = svc.now();
    let resumed = r.state == State::Running;
    // Approved with a start time: an approver continued it after its canary.
    let continued = r.state == State::Approved && r.started_at.is_some();
    match r.state {
        State::Approved => match svc
            .store
            .transition(&id, State::Approved, State::Running, None, now)
            .await
        {
            Ok(true) => {}
            _ => return, // cancelled meanwhile
        },
        State::Running => {}
        _ => return,
    }
    let cancel = svc.cancel_flag(&id);
    let stop: Arc<Mutex<Option<OktaError>>> = Arc::new(Mutex::new(None));
    let Ok(all) = svc.store.targets(&id).await else {
        tracing::error!(request = %id, "cannot read targets");
        return;
    };

    // The run touches exactly the approved list: check the snapshot has not changed.
    let ids: Vec<&str> = all
        .iter()
        .filter(|t| t.target.classification.is_reset())
        .filter_map(|t| t.target.okta_id.as_deref())
        .collect();
    if snapshot_digest(ids.iter().copied()) != r.digest {
        finish_stopped(svc, &r, "the stored target list no longer matches the approved snapshot digest; nothing more was reset").await;
        return;
    }
    let r = match svc.store.get_request(&id).await {
        Ok(Some(r)) => r, // re-read: `started_at` is set now
        _ => r,
    };

    if resumed {
        for t in all.iter().filter(|t| t.outcome == Outcome::InFlight) {
            let (out, reason) = recover::settle(svc, &r, t).await;
            let write = || {
                svc.store
                    .set_outcome(&id, t.seq, out, reason.as_deref(), None, svc.now())
            };
            if journal::durably(svc, "recovered outcome", write)
                .await
                .is_err()
            {
                return;
            }
        }
        svc.say_in_thread(
            &r,
            &Message::text(format!(
                "♻️ This run was interrupted (the bot stopped or a replica died); resuming {} from where it was.",
                render::slack_date(now)
            )),
        )
        .await;
    }
    // The root already says "approved, running": no edit here (chat.update is Tier 3).
    let start = svc.audit_event(
        Some(&id),
        None,
        if resumed {
            "run_resumed"
        } else if continued {
            "run_continued_after_canary"
        } else {
            "run_started"
        },
        json!({"to_reset": r.reset_count}),
    );
    // Fail closed: no reset goes out before the run's start is on the record. While the event
    // cannot be written the run waits, as for any journal write; at shutdown it resumes later.
    let on_record = || svc.store.append_audit(&start);
    if journal::durably(svc, "run start audit event", on_record)
        .await
        .is_err()
    {
        return;
    }

    let Ok(all) = journal::durably(svc, "targets", || svc.store.targets(&id)).await else {
        return;
    };
    // `--contain`: users reset before an interruption whose sessions were not ended yet get
    // only that step now (never a second reset).
    let lost = lease.lost_flag();
    let interrupted =
        || cancel.load(Ordering::SeqCst) || svc.is_stopping() || lost.load(Ordering::SeqCst);
    contain::finish_unended(svc, &r, &all, interrupted).await;
    let pending: Vec<TargetRecord> = all
        .iter()
        .filter(|t| t.target.classification.is_reset() && t.outcome == Outcome::Pending)
        .cloned()
        .collect();
    let total = r.reset_count as usize;
    let already = total - pending.len();
    let counters = Arc::new(Counters {
        done: AtomicUsize::new(already),
        reset: AtomicUsize::new(all.iter().filter(|t| t.outcome == Outcome::Reset).count()),
        failed: AtomicUsize::new(all.iter().filter(|t| t.outcome == Outcome::Failed).count()),
    });

    // With a canary, only its first users are started; the run then pauses for a Continue.
    let canary = canary::allowance(svc, &id, already, pending.len()).await;
    let Ok(canary) = canary else { return };
    // The progress message is posted by the ticker, beside the first resets: Slack paces
    // chat.postMessage to about one a second per channel, and the run should not wait for it.
    let finished = Arc::new(AtomicBool::new(false));
    let ticker = progress_ticker(
        svc.clone(),
        r.clone(),
        resumed,
        counters.clone(),
        total,
        finished.clone(),
    );
    // `policy.notify_users`: each reset user is told by DM after their reset, beside the run.
    let notices = notify::start(svc, &r);

    // Who is protected may have changed since the request was made (or since the canary's
    // pause): read it again before anyone is reset. Fails closed (see `recheck`). The progress
    // task announces the approval meanwhile.
    let protect = match recheck::protection_now(svc, &r, &cancel, &lease.lost_flag()).await {
        Ok(p) => Some(Arc::new(p)),
        Err(recheck::NoProtection::Systemic(e)) => {
            // Ends below like a reset refused this way.
            *stop.lock().expect("stop") = Some(e);
            None
        }
        // Cancelled, shutting down or handed over: nobody is taken; the end below says which.
        Err(recheck::NoProtection::Interrupted) => None,
    };
    let batch = match (&protect, canary) {
        (None, _) => Vec::new(),
        (Some(_), Some(n)) => pending.into_iter().take(n).collect(),
        (Some(_), None) => pending,
    };

    let concurrency = svc.config.okta.concurrency;
    let rec = Arc::new(r.clone());
    futures::stream::iter(batch)
        .for_each_concurrent(concurrency, |t| {
            let svc = svc.clone();
            let stop = stop.clone();
            let cancel = cancel.clone();
            let counters = counters.clone();
            let lost = lease.lost_flag();
            let rec = rec.clone();
            let protect = protect.clone();
            async move {
                if cancel.load(Ordering::SeqCst)
                    || svc.is_stopping()
                    || lost.load(Ordering::SeqCst)
                    || stop.lock().expect("stop").is_some()
                {
                    return;
                }
                if let Some(protect) = protect {
                    reset_one(&svc, &rec, &t, &protect, &stop, &counters).await;
                }
            }
        })
        .await;
    // Every reset of this pass is journalled: the DMs still queued go out before the summary.
    notices.finish().await;
    finished.store(true, Ordering::SeqCst);
    let mut progress = Closing {
        svc,
        r: &r,
        ticker: Some(ticker),
        counters: &counters,
        total,
    };

    if lease.is_lost() {
        // Another replica took the run over (this one was cut off too long): it carries on.
        tracing::warn!(request = %id, "lost the lease on this run; another replica continues it");
        progress.close().await;
        return;
    }
    if svc.is_stopping() && !cancel.load(Ordering::SeqCst) {
        // Shutting down: the run stays `running` and resumes at the next start.
        progress.close().await;
        svc.audit(
            Some(&id),
            None,
            "run_paused",
            json!({"why": "the bot is shutting down"}),
        )
        .await;
        svc.say_in_thread(
            &r,
            &Message::text(format!(
                "⏸️ The bot is shutting down {}: the run paused after the calls in flight and carries on when the bot is back.",
                render::slack_date(svc.now())
            )),
        )
        .await;
        return;
    }
    let stopped = stop.lock().expect("stop").take();
    if stopped.is_none() && canary.is_some() && !cancel.load(Ordering::SeqCst) {
        // The progress message settles first: the pause puts its Continue button there.
        progress.close().await;
        if canary::pause(svc, &r, &progress_of(&counters, total)).await {
            return;
        }
    }
    match stopped {
        Some(e) => {
            progress.close().await;
            finish_stopped(svc, &r, &format!("{e}. The remaining users were not attempted; fix the credentials and make a new request for them.")).await
        }
        None => {
            // The run is complete when the last outcome is journalled; the last progress edit
            // (chat.update is paced by Slack) and the summary follow it.
            let finish = || {
                svc.store
                    .transition(&id, State::Running, State::Completed, None, svc.now())
            };
            let done = journal::durably(svc, "run completion", finish).await;
            progress.close().await;
            if done.is_err() {
                return;
            }
            post_summary(svc, &id).await;
        }
    }
    svc.forget_cancel_flag(&id);
}

async fn reset_one(
    svc: &Arc<Service>,
    r: &RequestRecord,
    t: &TargetRecord,
    protect: &Protection,
    stop: &Mutex<Option<OktaError>>,
    c: &Counters,
) {
    let (id, revoke) = (r.id.as_str(), r.revoke_sessions);
    let Some(okta_id) = t.target.okta_id.as_deref() else {
        return;
    };
    let systemic = |e: &OktaError| {
        let mut s = stop.lock().expect("stop");
        if s.is_none() {
            *s = Some(e.clone());
        }
    };
    // Read the user again just before the reset: the approved list only says who was
    // resettable when the request was made. Skipped or failed here, the outcome is journalled,
    // so a resume never takes them up again.
    let checked = match recheck::still_resettable(svc, protect, okta_id, t).await {
        Ok(Recheck::Resettable) => None,
        Ok(Recheck::Changed(what)) => Some((
            Outcome::Skipped,
            Some(format!("{CHANGED_SINCE_APPROVAL}: {what}")),
        )),
        Err(e) if e.is_systemic() => {
            systemic(&e);
            return; // still pending: reported as not attempted
        }
        Err(e) => Some((
            Outcome::Failed,
            Some(format!(
                "could not be read again just before the reset ({e}), so it was not reset: check this user before retrying"
            )),
        )),
    };
    let (out, reason, okta_req) = match checked {
        Some((out, reason)) => (out, reason, None),
        None => {
            // Journal before the call: if the bot dies now, the resume knows this call's fate
            // is unknown and asks Okta. No journal, no call.
            let mark = || {
                svc.store
                    .set_outcome(id, t.seq, Outcome::InFlight, None, None, svc.now())
            };
            if journal::durably(svc, "in-flight mark", mark).await.is_err() {
                return;
            }
            match reset_verified(svc, okta_id, revoke).await {
                Ok(done) => (Outcome::Reset, None, done.okta_request_id),
                Err(e) if e.is_systemic() => {
                    systemic(&e);
                    // Not reset, and not this user's fault: back to pending, not attempted.
                    (Outcome::Pending, None, None)
                }
                Err(e) => (Outcome::Failed, Some(e.to_string()), None),
            }
        }
    };
    let now = svc.now();
    let write = || {
        svc.store
            .set_outcome(id, t.seq, out, reason.as_deref(), okta_req.as_deref(), now)
    };
    crate::metrics::reset_outcome(out.code());
    if journal::durably(svc, "outcome", write).await.is_err() {
        // Shutting down with the store away: left in flight, settled with Okta at the next start.
        return;
    }
    match out {
        Outcome::Reset => {
            c.reset.fetch_add(1, Ordering::Relaxed);
            c.done.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::Failed => {
            c.failed.fetch_add(1, Ordering::Relaxed);
            c.done.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::Skipped => {
            c.done.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
    svc.audit(
        Some(id),
        None,
        "user_outcome",
        json!({
            "okta_id": okta_id,
            "login": t.target.login,
            "outcome": out,
            "reason": reason,
            "okta_request_id": okta_req,
        }),
    )
    .await;
    if out == Outcome::Reset {
        contain::after_reset(svc, r, t).await;
    }
}

/// Resets one user. A call that timed out is retried (up to `okta.max_retries`) only after
/// Okta shows the reset did not happen: a second reset would send a second email and void the
/// first link. If Okta shows it did, it counts as done.
async fn reset_verified(
    svc: &Service,
    okta_id: &str,
    revoke: bool,
) -> Result<crate::okta::client::ResetDone, OktaError> {
    let since = svc.now();
    let mut result = svc.okta.reset_password(okta_id, revoke).await;
    let mut retries = 0;
    while matches!(result, Err(OktaError::TimedOut)) {
        match recover::applied_since(svc, okta_id, since).await {
            Ok(true) => {
                return Ok(crate::okta::client::ResetDone {
                    okta_request_id: None,
                })
            }
            Ok(false) if retries < svc.config.okta.max_retries => {
                retries += 1;
                result = svc.okta.reset_password(okta_id, revoke).await;
            }
            Ok(false) => {
                return Err(OktaError::Transport(format!(
                    "Okta did not answer in time ({} attempts); Okta shows no reset",
                    retries + 1
                )))
            }
            Err(e) => {
                return Err(OktaError::Transport(format!(
                    "Okta did not answer in time and could not be asked whether the reset happened ({e}): check this user before retrying"
                )))
            }
        }
    }
    result
}

async fn finish_stopped(svc: &Arc<Service>, r: &RequestRecord, why: &str) {
    let _ = svc.store.set_stop_reason(&r.id, why).await;
    let _ = svc
        .store
        .transition(&r.id, State::Running, State::Stopped, None, svc.now())
        .await;
    svc.audit(Some(&r.id), None, "run_stopped", json!({"why": why}))
        .await;
    post_summary(svc, &r.id).await;
}
