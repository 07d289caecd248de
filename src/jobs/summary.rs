//! The end of a run in its thread: `run_finished` in the audit log, the results file uploaded into
//! the thread, then the summary with a link to Okta's System Log for the run's window. The
//! summary is posted even when the file could not be attached, and then says so.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::system_log_proof::{self, Proof};
use crate::okta::system_log::{reset_events_link, window, RESET_EVENT};
use crate::results::results_file;
use crate::service::Service;
use crate::slack::escape::{code, escape};
use crate::slack::render::{self, context, slack_date};
use crate::slack::upload::UploadError;
use crate::store::{RequestRecord, TargetRecord};

/// Attempts at the end of a run: about a minute of backoff. After that the run's lease is given
/// up and `post_overdue_summaries` tries again on every sweep, on whichever replica claims it.
const SUMMARY_ATTEMPTS: u32 = 5;

/// Posts the summary once: skipped if one was already recorded, recorded only after Slack took
/// it (a failed post is retried, so Slack being briefly down does not lose the summary).
pub(super) async fn post_summary(svc: &Arc<Service>, id: &str) {
    deliver(svc, id, SUMMARY_ATTEMPTS).await;
}

/// Runs that ended while Slack was away for longer than their own retries: each is claimed under
/// the run lease (one replica at a time; this replica's own runs are skipped while they are still
/// trying), and its summary tried once more. Called on every sweep.
pub async fn post_overdue_summaries(svc: &Arc<Service>) {
    let ids = match svc.store.unsummarized_runs(svc.now()).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "could not list runs without a summary");
            return;
        }
    };
    for id in ids {
        post_summary_held(svc, &id, 1).await;
    }
}

/// Posts the summary of a run that ended away from its runner (the sweep, a cancelled paused
/// run) under the run's lease, so no other replica posts it meanwhile; does nothing when this
/// replica or another already holds it (that holder posts it).
pub async fn post_summary_held(svc: &Arc<Service>, id: &str, attempts: u32) {
    if !svc.begin_running(id) {
        return;
    }
    let now = svc.now();
    if let Ok(true) = svc
        .store
        .claim_run(id, &svc.replica, now, now + svc.lease_ms())
        .await
    {
        let lease = super::lease::hold(svc.clone(), id.to_string());
        deliver(svc, id, attempts).await;
        lease.release().await;
        svc.forget_cancel_flag(id);
    }
    svc.end_running(id);
}

/// A cancelled paused run's summary: the run had already left its runner.
pub async fn post_summary_after_pause(svc: &Arc<Service>, id: &str) {
    post_summary_held(svc, id, SUMMARY_ATTEMPTS).await;
}

/// What an earlier attempt already did for this request's end, from its audit trail: the
/// `run_finished` event, and the results file's name if it was attached.
async fn earlier_attempt(svc: &Service, id: &str) -> (bool, Option<String>) {
    let events = svc.store.audit_events(Some(id)).await.unwrap_or_default();
    let finished = events.iter().any(|e| e.action == "run_finished");
    let file = events
        .iter()
        .find(|e| e.action == "results_file_attached")
        .and_then(|e| e.detail["filename"].as_str().map(str::to_string));
    (finished, file)
}

async fn deliver(svc: &Arc<Service>, id: &str, attempts: u32) {
    let (Ok(Some(r)), Ok(targets)) = (svc.store.get_request(id).await, svc.store.targets(id).await)
    else {
        tracing::error!(request = id, "cannot read the request for its summary");
        return;
    };
    if r.summary_ts.is_some() {
        return;
    }
    let (late, file) = earlier_attempt(svc, id).await;
    // `policy.notify_users`: who was told by DM (empty when nobody was to be).
    let notices = svc.store.notices(id).await.unwrap_or_default();
    if !late {
        let counts = svc.store.outcome_counts(id).await.unwrap_or_default();
        svc.audit(
            Some(id),
            None,
            "run_finished",
            json!({
                "state": r.state.code(),
                "counts": counts.into_iter().map(|(o, n)| (o.code(), n)).collect::<std::collections::BTreeMap<_, _>>(),
                "started_at": r.started_at,
                "finished_at": r.finished_at,
            }),
        )
        .await;
    }
    // One look at Okta's System Log now, for the results file and the summary; later looks
    // (the log lags) happen in the background and never hold the summary.
    let proof = system_log_proof::look(svc, &r, &targets, false).await;
    let attached = match file {
        Some(name) => Ok(name),
        None => attach_results(svc, &r, &targets, &notices, &proof).await,
    };
    let msg = compose(svc, &r, &targets, &attached, late, &proof, false).await;
    let mut posted = None;
    for attempt in 0..attempts {
        match svc
            .slack
            .post(r.channel_id.as_str(), r.root_ts.as_deref(), &msg)
            .await
        {
            Ok(ts) => {
                posted = Some(ts);
                break;
            }
            Err(e) => {
                tracing::warn!(request = id, attempt, error = %e, "could not post the summary");
                if attempt + 1 < attempts {
                    tokio::time::sleep(Duration::from_secs(2u64 << attempt)).await;
                }
            }
        }
    }
    let Some(ts) = posted else {
        tracing::error!(
            request = id,
            "the summary could not be posted yet; it is in the store and the audit log, and is tried again on every sweep"
        );
        return;
    };
    if let Err(e) = svc.store.claim_summary(id, &ts).await {
        tracing::error!(request = id, error = %e, "could not record the summary");
    }
    svc.audit(
        Some(id),
        None,
        "summary_posted",
        json!({"ts": ts, "late": late}),
    )
    .await;
    svc.refresh_root(id).await;
    if proof.pending(&targets) {
        let (channel, r2, t2) = (r.channel_id.clone(), r.clone(), targets.clone());
        system_log_proof::follow_up(svc.clone(), r, targets, move |svc, proof| async move {
            let msg = compose(&svc, &r2, &t2, &attached, late, &proof, true).await;
            match svc.slack.update(channel.as_str(), &ts, &msg).await {
                Ok(()) => {
                    svc.audit(
                        Some(r2.id.as_str()),
                        None,
                        "summary_edited",
                        json!({"ts": ts, "why": "system_log"}),
                    )
                    .await
                }
                Err(e) => {
                    tracing::warn!(request = %r2.id, error = %e, "could not edit the summary with the System Log's answer")
                }
            }
        });
    }
}

/// The summary message: counts, who signed off, the System Log line, where the results file is.
async fn compose(
    svc: &Service,
    r: &RequestRecord,
    targets: &[TargetRecord],
    attached: &Result<String, UploadError>,
    late: bool,
    proof: &Proof,
    last: bool,
) -> crate::slack::outbound::Message {
    let mut msg = summary_message(svc, r, targets, attached, proof, last);
    // `policy.notify_users`: who was told by DM (empty when nobody was to be).
    let notices = svc.store.notices(r.id.as_str()).await.unwrap_or_default();
    if let Some(dms) = crate::slack::render_notice::summary_section(targets, &notices) {
        msg.blocks.insert(1, dms);
    }
    if late {
        msg.blocks.push(context(format!(
            "⏱️ Posted late: Slack could not be reached when the run ended {}.",
            slack_date(r.finished_at.unwrap_or(r.created_at))
        )));
    }
    // Both approvers of a two-approver request, and who continued after the canary.
    if let Some(line) = render::sign_off_line(r, &svc.sign_offs_for(r).await) {
        msg.blocks.insert(1, context(line));
    }
    msg
}

/// Uploads the results CSV into the thread; the filename on success.
async fn attach_results(
    svc: &Arc<Service>,
    r: &RequestRecord,
    targets: &[TargetRecord],
    notices: &[crate::store::NoticeRecord],
    proof: &Proof,
) -> Result<String, UploadError> {
    let file = results_file(r, targets, notices, |t| proof.column(t));
    let Some(root) = r.root_ts.as_deref() else {
        return Err(UploadError {
            step: "upload",
            reason: "the request has no thread".into(),
        });
    };
    let comment = format!(
        "Results of {}: one row per user (Okta id, login, email, outcome, reason, Okta request id, time, sessions ended, notified, confirmed in Okta's System Log).",
        r.id
    );
    match svc
        .slack
        .upload_file(r.channel_id.as_str(), root, &file, &comment)
        .await
    {
        Ok(file_id) => {
            svc.audit(
                Some(r.id.as_str()),
                None,
                "results_file_attached",
                json!({"file_id": file_id, "filename": file.filename, "rows": file.rows}),
            )
            .await;
            Ok(file.filename)
        }
        Err(e) => {
            svc.audit(
                Some(r.id.as_str()),
                None,
                "results_file_not_attached",
                json!({"why": e.to_string()}),
            )
            .await;
            Err(e)
        }
    }
}

/// The summary, plus where the results file is and the System Log link.
fn summary_message(
    svc: &Service,
    r: &RequestRecord,
    targets: &[TargetRecord],
    attached: &Result<String, UploadError>,
    proof: &Proof,
    last: bool,
) -> crate::slack::outbound::Message {
    let now = svc.now();
    let mut msg = render::summary(r, targets, now);
    let file_line = match attached {
        Ok(name) => format!("📎 Results file {} is attached in this thread.", code(name)),
        Err(e) => format!(
            "⚠️ The results file could not be attached ({}: {}). The same record is in the bot's audit log: `okta-reset audit export --request {}`.",
            escape(e.step),
            code(&e.reason),
            r.id
        ),
    };
    let start = r.started_at.unwrap_or(r.created_at);
    let end = r.finished_at.unwrap_or(now);
    let (from, to) = window(start, end);
    let link = reset_events_link(&svc.config.okta.admin_url, start, end);
    let log_line = format!(
        "🔎 <{}|Okta System Log> for `{RESET_EVENT}` from {} to {}, to reconcile with Okta's own record.",
        escape(link.as_str()),
        slack_date(from),
        slack_date(to)
    );
    let proof_line = proof
        .line(targets, svc.config.okta.system_log_wait_secs, last)
        .map(|l| format!("{l}\n"))
        .unwrap_or_default();
    msg.blocks
        .push(context(format!("{proof_line}{file_line}\n{log_line}")));
    msg.text.push(' ');
    msg.text.push_str(match attached {
        Ok(_) => "Results file attached.",
        Err(_) => "The results file could not be attached.",
    });
    msg
}
