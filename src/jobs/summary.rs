//! The end of a run in its thread: `run_finished` in the audit log, the results file uploaded into
//! the thread, then the summary with a link to Okta's System Log for the run's window. The
//! summary is posted even when the file could not be attached, and then says so.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::okta::system_log::{reset_events_link, window, RESET_EVENT};
use crate::results::results_file;
use crate::service::Service;
use crate::slack::escape::{code, escape};
use crate::slack::render::{self, context, slack_date};
use crate::slack::upload::UploadError;
use crate::store::{RequestRecord, TargetRecord};

const SUMMARY_ATTEMPTS: u32 = 5;

/// Posts the summary once: skipped if one was already recorded, recorded only after Slack took
/// it (a failed post is retried, so Slack being briefly down does not lose the summary).
pub async fn post_summary(svc: &Arc<Service>, id: &str) {
    let (Ok(Some(r)), Ok(targets)) = (svc.store.get_request(id).await, svc.store.targets(id).await)
    else {
        tracing::error!(request = id, "cannot read the request for its summary");
        return;
    };
    if r.summary_ts.is_some() {
        return;
    }
    let counts = svc.store.outcome_counts(id).await.unwrap_or_default();
    svc.audit(
        Some(id),
        None,
        "run_finished",
        json!({
            "state": r.state.code(),
            "counts": counts.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "started_at": r.started_at,
            "finished_at": r.finished_at,
        }),
    )
    .await;
    let attached = attach_results(svc, &r, &targets).await;
    let mut msg = summary_message(svc, &r, &targets, &attached);
    // Both approvers of a two-approver request, and who continued after the canary.
    if let Some(line) = render::sign_off_line(&r, &svc.sign_offs_for(&r).await) {
        msg.blocks.insert(1, context(line));
    }
    let mut posted = None;
    for attempt in 0..SUMMARY_ATTEMPTS {
        match svc
            .slack
            .post(&r.channel_id, r.root_ts.as_deref(), &msg)
            .await
        {
            Ok(ts) => {
                posted = Some(ts);
                break;
            }
            Err(e) => {
                tracing::warn!(request = id, attempt, error = %e, "could not post the summary; retrying");
                tokio::time::sleep(Duration::from_secs(2u64 << attempt)).await;
            }
        }
    }
    let Some(ts) = posted else {
        tracing::error!(
            request = id,
            "the summary could not be posted; it is in the store and the audit log"
        );
        return;
    };
    if let Err(e) = svc.store.claim_summary(id, &ts).await {
        tracing::error!(request = id, error = %e, "could not record the summary");
    }
    svc.audit(Some(id), None, "summary_posted", json!({"ts": ts}))
        .await;
    svc.refresh_root(id).await;
}

/// Uploads the results CSV into the thread; the filename on success.
async fn attach_results(
    svc: &Arc<Service>,
    r: &RequestRecord,
    targets: &[TargetRecord],
) -> Result<String, UploadError> {
    let file = results_file(r, targets);
    let Some(root) = r.root_ts.as_deref() else {
        return Err(UploadError {
            step: "upload",
            reason: "the request has no thread".into(),
        });
    };
    let comment = format!(
        "Results of {}: one row per user (Okta id, login, email, outcome, reason, Okta request id, time).",
        r.id
    );
    match svc
        .slack
        .upload_file(&r.channel_id, root, &file, &comment)
        .await
    {
        Ok(file_id) => {
            svc.audit(
                Some(&r.id),
                None,
                "results_file_attached",
                json!({"file_id": file_id, "filename": file.filename, "rows": file.rows}),
            )
            .await;
            Ok(file.filename)
        }
        Err(e) => {
            svc.audit(
                Some(&r.id),
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
    msg.blocks.push(context(format!("{file_line}\n{log_line}")));
    msg.text.push(' ');
    msg.text.push_str(match attached {
        Ok(_) => "Results file attached.",
        Err(_) => "The results file could not be attached.",
    });
    msg
}
