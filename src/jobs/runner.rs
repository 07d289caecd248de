//! The run of approved requests. [`run_loop`] runs each approved id in its own task; [`run`]
//! claims the run's lease and hands it to `run_held`, one pass over the run, step by step:
//!
//! 1. `begin`: approved → running (or a run already running is resumed);
//! 2. `check_snapshot`: the stored target list is still the approved one, or the run stops;
//! 3. `settle_interrupted` (a resumed run): the calls in flight when it stopped, settled with
//!    Okta;
//! 4. `record_start`: the start is on the audit record before any reset (fail closed);
//! 5. `tally` and `protection`: who is still pending, who is protected now;
//! 6. `reset_batch`: the pending users (or only the canary's), each through `reset_one`;
//! 7. `end_pass` and `finish`: handed over, paused by a shutdown or after the canary, stopped
//!    by Okta, or completed, then the summary.
//!
//! The request moves between states only through the state machine (`request_state`), and
//! every outcome is journalled before the run goes on (`journal`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use tokio::sync::mpsc;

use super::progress::{progress_of, progress_ticker, Closing, Counters};
use super::recheck::{self, Recheck};
use super::summary::{post_summary, post_summary_after_pause};
use super::{canary, contain, journal, lease, notify, recover, request_state};
use crate::domain::classify::CHANGED_SINCE_APPROVAL;
use crate::domain::digest::snapshot_digest;
use crate::domain::request::{Event, State};
use crate::okta::protected::Protection;
use crate::okta::OktaError;
use crate::service::{RunOrder, Service};
use crate::slack::outbound::Message;
use crate::slack::render;
use crate::store::{Outcome, RequestRecord, TargetRecord};
use tracing::Instrument;

/// How long a shutdown waits for the calls in flight to finish and be journalled.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Receives approved request ids and runs each in its own task (and the summaries of cancelled
/// paused runs), until `stop` fires; then lets the runs journal their calls in flight (bounded by
/// `DRAIN`) and returns.
pub async fn run_loop(
    svc: Arc<Service>,
    mut rx: mpsc::UnboundedReceiver<RunOrder>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut runs = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            id = rx.recv() => match id {
                Some(RunOrder::Run(id)) => {
                    let svc = svc.clone();
                    // Every Okta call of the run names the request in its User-Agent.
                    runs.spawn(crate::okta::client::for_request(id.clone(), run(svc, id)));
                }
                Some(RunOrder::SummaryAfterPause(id)) => {
                    let svc = svc.clone();
                    runs.spawn(async move { post_summary_after_pause(&svc, &id).await });
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

/// A run taken up by this replica, as read before it starts.
struct Begun {
    r: RequestRecord,
    /// It was running already: this bot stopped, or a replica died, in the middle of it.
    resumed: bool,
    /// Approved with a start time: an approver continued it after its canary.
    continued: bool,
    now: i64,
}

/// What the steps of one pass over a held run share.
struct Pass<'a> {
    svc: &'a Arc<Service>,
    lease: &'a lease::Lease,
    cancel: Arc<AtomicBool>,
    /// The first systemic Okta error (token refused, permission missing): it stops the run.
    stop: Arc<Mutex<Option<OktaError>>>,
}

impl Pass<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// One pass over a run this replica holds: start it, check its list, settle what an
/// interruption left, put the start on the record, reset the pending users (or only the
/// canary's), then pause, stop or complete it.
async fn run_held(svc: &Arc<Service>, id: &str, lease: &lease::Lease) {
    let Some(Begun {
        r,
        resumed,
        continued,
        now,
    }) = begin(svc, id).await
    else {
        return;
    };
    let pass = Pass {
        svc,
        lease,
        cancel: svc.cancel_flag(id),
        stop: Arc::new(Mutex::new(None)),
    };
    let Some((r, all)) = check_snapshot(svc, r).await else {
        return;
    };
    if resumed && !settle_interrupted(svc, &r, &all, now).await {
        return;
    }
    if !record_start(svc, &r, resumed, continued).await {
        return;
    }

    let Ok(all) = journal::durably(svc, "targets", || svc.store.targets(id)).await else {
        return;
    };
    // `--contain`: users reset before an interruption whose sessions were not ended yet get
    // only that step now (never a second reset).
    let lost = lease.lost_flag();
    let interrupted = || pass.cancelled() || svc.is_stopping() || lost.load(Ordering::SeqCst);
    contain::finish_unended(svc, &r, &all, interrupted).await;
    let (pending, total, counters) = tally(&r, &all);
    let already = total - pending.len();

    // With a canary, only its first users are started; the run then pauses for a Continue.
    let canary = canary::allowance(svc, id, already, pending.len()).await;
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

    let protect = protection(&pass, &r).await;
    let batch = match (&protect, canary) {
        (None, _) => Vec::new(),
        (Some(_), Some(n)) => pending.into_iter().take(n).collect(),
        (Some(_), None) => pending,
    };
    reset_batch(&pass, &r, batch, protect, &counters).await;
    // Every reset of this pass is journalled: the DMs still queued go out before the summary.
    notices.finish().await;
    finished.store(true, Ordering::SeqCst);
    let progress = Closing {
        svc,
        r: &r,
        ticker: Some(ticker),
        counters: &counters,
        total,
    };
    end_pass(&pass, &r, canary, progress).await;
}

/// Reads the request and moves it from approved to running (`Event::Start`); a run already
/// running is resumed as it is. `None` when there is nothing to run: not found, cancelled
/// meanwhile, or in another state.
async fn begin(svc: &Arc<Service>, id: &str) -> Option<Begun> {
    let Ok(Some(r)) = svc.store.get_request(id).await else {
        tracing::error!(request = %id, "approved request not found");
        return None;
    };
    let now = svc.now();
    let resumed = r.state == State::Running;
    // Approved with a start time: an approver continued it after its canary.
    let continued = r.state == State::Approved && r.started_at.is_some();
    match r.state {
        State::Approved => {
            match request_state::advance(svc, &r, State::Approved, Event::Start, now).await {
                Ok(true) => {}
                _ => return None, // cancelled meanwhile
            }
        }
        State::Running => {}
        _ => return None,
    }
    Some(Begun {
        r,
        resumed,
        continued,
        now,
    })
}

/// The run touches exactly the approved list: stops it if the stored targets no longer match
/// the approved snapshot. Returns the request read again (`started_at` is set now) and its
/// targets.
async fn check_snapshot(
    svc: &Arc<Service>,
    r: RequestRecord,
) -> Option<(RequestRecord, Vec<TargetRecord>)> {
    let id = r.id.as_str();
    let Ok(all) = svc.store.targets(id).await else {
        tracing::error!(request = %id, "cannot read targets");
        return None;
    };

    // The run touches exactly the approved list: check the snapshot has not changed.
    let ids: Vec<&str> = all
        .iter()
        .filter(|t| t.target.classification.is_reset())
        .filter_map(|t| t.target.okta_id.as_deref())
        .collect();
    if snapshot_digest(ids.iter().copied()) != r.digest {
        finish_stopped(svc, &r, "the stored target list no longer matches the approved snapshot digest; nothing more was reset").await;
        return None;
    }
    let r = match svc.store.get_request(id).await {
        Ok(Some(r)) => r, // re-read: `started_at` is set now
        _ => r,
    };
    Some((r, all))
}

/// A resumed run: the calls that were in flight when it was interrupted get their outcome from
/// Okta, and the thread says the run resumes. False when the bot is shutting down.
async fn settle_interrupted(
    svc: &Arc<Service>,
    r: &RequestRecord,
    all: &[TargetRecord],
    now: i64,
) -> bool {
    let id = r.id.as_str();
    for t in all.iter().filter(|t| t.outcome == Outcome::InFlight) {
        let (out, reason) = recover::settle(svc, r, t).await;
        let write = || {
            svc.store
                .set_outcome(id, t.seq, out, reason.as_deref(), None, svc.now())
        };
        if journal::durably(svc, "recovered outcome", write)
            .await
            .is_err()
        {
            return false;
        }
    }
    svc.say_in_thread(
        r,
        &Message::text(format!(
            "♻️ This run was interrupted (the bot stopped or a replica died); resuming {} from where it was.",
            render::slack_date(now)
        )),
    )
    .await;
    true
}

/// Puts the run's start (or resumption, or continuation after its canary) on the record.
/// False when the bot is shutting down.
async fn record_start(
    svc: &Arc<Service>,
    r: &RequestRecord,
    resumed: bool,
    continued: bool,
) -> bool {
    let id = r.id.as_str();
    // The root already says "approved, running": no edit here (chat.update is Tier 3).
    let start = svc.audit_event(
        Some(id),
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
    journal::durably(svc, "run start audit event", on_record)
        .await
        .is_ok()
}

/// The users still to reset, how many the run resets in all, and the counts so far.
fn tally(r: &RequestRecord, all: &[TargetRecord]) -> (Vec<TargetRecord>, usize, Arc<Counters>) {
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
    (pending, total, counters)
}

/// Who is protected may have changed since the request was made (or since the canary's
/// pause): read it again before anyone is reset. Fails closed (see `recheck`): `None` takes
/// nobody. The progress task announces the approval meanwhile.
async fn protection(pass: &Pass<'_>, r: &RequestRecord) -> Option<Arc<Protection>> {
    let (svc, cancel, stop) = (pass.svc, &pass.cancel, &pass.stop);
    match recheck::protection_now(svc, r, cancel, &pass.lease.lost_flag()).await {
        Ok(p) => Some(Arc::new(p)),
        Err(recheck::NoProtection::Systemic(e)) => {
            // Ends below like a reset refused this way.
            *stop.lock().expect("stop") = Some(e);
            None
        }
        // Cancelled, shutting down or handed over: nobody is taken; the end below says which.
        Err(recheck::NoProtection::Interrupted) => None,
    }
}

/// Resets `batch`, `okta.concurrency` at a time, until it is done or the run is cancelled,
/// shut down, handed over or stopped by Okta.
async fn reset_batch(
    pass: &Pass<'_>,
    r: &RequestRecord,
    batch: Vec<TargetRecord>,
    protect: Option<Arc<Protection>>,
    counters: &Arc<Counters>,
) {
    let (svc, lease, cancel, stop) = (pass.svc, pass.lease, &pass.cancel, &pass.stop);
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
                let halted = || {
                    cancel.load(Ordering::SeqCst)
                        || svc.is_stopping()
                        || lost.load(Ordering::SeqCst)
                        || stop.lock().expect("stop").is_some()
                };
                if halted() {
                    return;
                }
                if let Some(protect) = protect {
                    reset_one(&svc, &rec, &t, &protect, &stop, &counters, &halted).await;
                }
            }
        })
        .await;
}

/// The end of a pass: handed over, paused by a shutdown, paused after the canary, stopped by
/// Okta, or complete.
async fn end_pass(
    pass: &Pass<'_>,
    r: &RequestRecord,
    canary: Option<usize>,
    mut progress: Closing<'_>,
) {
    let (svc, lease, cancel, stop) = (pass.svc, pass.lease, &pass.cancel, &pass.stop);
    let id = r.id.as_str();
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
            Some(id),
            None,
            "run_paused",
            json!({"why": "the bot is shutting down"}),
        )
        .await;
        svc.say_in_thread(
            r,
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
        if canary::pause(svc, r, &progress_of(progress.counters, progress.total)).await {
            return;
        }
    }
    finish(svc, r, stopped, progress).await;
}

/// Stops the run on Okta's error, or completes it (`Event::Finish`) and posts the summary.
async fn finish(
    svc: &Arc<Service>,
    r: &RequestRecord,
    stopped: Option<OktaError>,
    mut progress: Closing<'_>,
) {
    let id = r.id.as_str();
    match stopped {
        Some(e) => {
            progress.close().await;
            finish_stopped(svc, r, &format!("{e}. The remaining users were not attempted; fix the credentials and make a new request for them.")).await
        }
        None => {
            // The run is complete when the last outcome is journalled; the last progress edit
            // (chat.update is paced by Slack) and the summary follow it.
            let finish =
                || request_state::advance(svc, r, State::Running, Event::Finish, svc.now());
            let done = journal::durably(svc, "run completion", finish).await;
            progress.close().await;
            if done.is_err() {
                return;
            }
            post_summary(svc, id).await;
        }
    }
    svc.forget_cancel_flag(id);
}

async fn reset_one(
    svc: &Arc<Service>,
    r: &RequestRecord,
    t: &TargetRecord,
    protect: &Protection,
    stop: &Mutex<Option<OktaError>>,
    c: &Counters,
    halted: &(dyn Fn() -> bool + Sync),
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
            // A cancel, a shutdown, a lost lease or a stop may have come while the user was
            // read again: then no call goes out, and the user stays pending (not attempted).
            if halted() {
                return;
            }
            // Journal before the call: if the bot dies now, the resume knows this call's fate
            // is unknown and asks Okta. No journal, no call; and the mark is taken only from
            // `pending`, so two holders of the run can never both send this user's reset.
            let mark = || svc.store.mark_in_flight(id, t.seq, svc.now());
            match journal::durably(svc, "in-flight mark", mark).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(
                        request = id,
                        seq = t.seq,
                        "the user was taken or settled elsewhere; not reset here"
                    );
                    return;
                }
                Err(()) => return,
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
    let _ = svc.store.set_stop_reason(r.id.as_str(), why).await;
    let _ = request_state::advance(svc, r, State::Running, Event::Stop, svc.now()).await;
    svc.audit(
        Some(r.id.as_str()),
        None,
        "run_stopped",
        json!({"why": why}),
    )
    .await;
    post_summary(svc, r.id.as_str()).await;
}
