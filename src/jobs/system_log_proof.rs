//! Proof of a run in Okta's own record: after the run, the bot reads Okta's System Log for the
//! run's window (`user.account.reset_password` events) and matches each event to a reset user by
//! `target[].id` and to this bot's run by `client.userAgent.rawUserAgent`, which carries the
//! request id (`okta-reset/<v> (request R-…)`).
//!
//! Okta's log lags behind what happened, so the first look (made when the run ends, before the
//! results file and the summary) may not find everything. The summary is never held for it: the
//! bot looks again in the background with backoff for up to `okta.system_log_wait_secs` (10
//! minutes by default) and then edits the summary once with what it found. A 403 (no
//! `okta.logs.read`) is said once, in plain words, and the column reads `unknown`; it is not
//! retried, since a missing permission does not come back by itself. Each look is recorded in
//! the audit log (`system_log_checked`), which is what `okta-reset report` shows.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::okta::client::for_request;
use crate::okta::system_log::window;
use crate::okta::OktaError;
use crate::service::Service;
use crate::slack::escape::{escape_clipped, one_line};
use crate::store::{Outcome, RequestRecord, TargetRecord};

/// What one look at the System Log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The log was read: the reset users whose event by this run is there.
    Read { confirmed: HashSet<String> },
    /// 403: the bot may not read the log.
    Forbidden,
    /// Okta could not be asked (network, 5xx, …): looked for again later.
    Failed(String),
}

impl Proof {
    /// The `confirmed_in_system_log` cell of one results row: empty for users not reset.
    pub fn column(&self, t: &TargetRecord) -> &'static str {
        if t.outcome != Outcome::Reset {
            return "";
        }
        match self {
            Proof::Read { confirmed }
                if t.target
                    .okta_id
                    .as_ref()
                    .is_some_and(|id| confirmed.contains(id)) =>
            {
                "yes"
            }
            Proof::Forbidden => "unknown",
            _ => "not yet",
        }
    }

    /// Reset users still missing from the log; `None` when the log cannot be read at all.
    fn missing(&self, targets: &[TargetRecord]) -> Option<usize> {
        match self {
            Proof::Forbidden => None,
            _ => Some(resets(targets).filter(|t| self.column(t) != "yes").count()),
        }
    }

    /// Whether looking again could change the answer.
    pub fn pending(&self, targets: &[TargetRecord]) -> bool {
        self.missing(targets).is_some_and(|n| n > 0)
    }

    /// The summary's line, or `None` when nothing was reset. `last` is true once the bot has
    /// stopped looking.
    pub fn line(&self, targets: &[TargetRecord], wait_secs: u64, last: bool) -> Option<String> {
        let total = resets(targets).count();
        if total == 0 {
            return None;
        }
        let minutes = wait_minutes(wait_secs);
        let Some(missing) = self.missing(targets) else {
            return Some(
                "🧾 The bot may not read Okta's System Log (Okta answered 403: the service app lacks the `okta.logs.read` scope, or the API token's admin cannot view the log), so the results file's `confirmed_in_system_log` column reads `unknown`. Check the resets with the System Log link below.".to_string(),
            );
        };
        let found = total - missing;
        let why = match self {
            Proof::Failed(e) => format!(
                " (the log could not be read: {})",
                escape_clipped(&one_line(e), 300).0
            ),
            _ => String::new(),
        };
        Some(if missing == 0 {
            format!("🧾 Okta's System Log confirms {found} of {total} resets.")
        } else if last {
            format!(
                "🧾 Okta's System Log confirms {found} of {total} resets; {missing} {} still not there after {minutes}{why}. Look them up with the System Log link below before closing the incident.",
                if missing == 1 { "was" } else { "were" }
            )
        } else {
            format!(
                "🧾 Okta's System Log confirms {found} of {total} resets so far; {missing} {} not there yet{why} (Okta's log can lag). The bot looks again for up to {minutes} and updates this line.",
                if missing == 1 { "is" } else { "are" }
            )
        })
    }
}

fn resets(targets: &[TargetRecord]) -> impl Iterator<Item = &TargetRecord> {
    targets.iter().filter(|t| t.outcome == Outcome::Reset)
}

fn wait_minutes(secs: u64) -> String {
    match secs {
        s if s % 60 == 0 && s >= 60 => {
            format!("{} minute{}", s / 60, if s == 60 { "" } else { "s" })
        }
        s => format!("{s} second{}", if s == 1 { "" } else { "s" }),
    }
}

/// One look at the System Log for run `r`, recorded in the audit log.
pub async fn look(svc: &Service, r: &RequestRecord, targets: &[TargetRecord], last: bool) -> Proof {
    // Nothing was reset (a dry run, everyone skipped): nothing to prove, Okta is not asked.
    if resets(targets).next().is_none() {
        return Proof::Read {
            confirmed: HashSet::new(),
        };
    }
    let start = r.started_at.unwrap_or(r.created_at);
    let end = r.finished_at.unwrap_or_else(|| svc.now());
    let (since, until) = window(start, end);
    let read = for_request(r.id.clone(), svc.okta.reset_events(since, until)).await;
    let proof = match read {
        Ok(events) => {
            let wanted: HashSet<&str> = resets(targets)
                .filter_map(|t| t.target.okta_id.as_deref())
                .collect();
            let confirmed = events
                .iter()
                .filter(|e| e.raw_user_agent.contains(r.id.as_str()))
                .flat_map(|e| e.target_ids.iter())
                .filter(|id| wanted.contains(id.as_str()))
                .cloned()
                .collect();
            Proof::Read { confirmed }
        }
        Err(OktaError::Forbidden { .. }) => Proof::Forbidden,
        Err(e) => Proof::Failed(e.to_string()),
    };
    let mut confirmed: Vec<&str> = resets(targets)
        .filter(|t| proof.column(t) == "yes")
        .filter_map(|t| t.target.okta_id.as_deref())
        .collect();
    confirmed.sort_unstable();
    svc.audit(
        Some(r.id.as_str()),
        None,
        "system_log_checked",
        json!({
            "read": match &proof { Proof::Read { .. } => "ok", Proof::Forbidden => "forbidden", Proof::Failed(_) => "failed" },
            "error": match &proof { Proof::Failed(e) => Some(e.as_str()), _ => None },
            "confirmed": confirmed,
            "resets": resets(targets).count(),
            "final": last || !proof.pending(targets),
        }),
    )
    .await;
    proof
}

/// Backoff between looks: 1/40 of the wait, doubling (15 s, 30 s, 1 min, … for 10 minutes), the
/// last one cut to end at the wait.
fn delays(wait_secs: u64) -> Vec<Duration> {
    let total = Duration::from_secs(wait_secs);
    let mut step = (total / 40).max(Duration::from_millis(100));
    let (mut spent, mut out) = (Duration::ZERO, Vec::new());
    while spent < total {
        let d = step.min(total - spent);
        out.push(d);
        spent += d;
        step *= 2;
    }
    out
}

/// Looks again in the background until every reset is in the log or the wait is over, then
/// edits the summary (`summary_ts`) once with `edit`'s message for the last look.
pub fn follow_up<F, Fut>(svc: Arc<Service>, r: RequestRecord, targets: Vec<TargetRecord>, edit: F)
where
    F: FnOnce(Arc<Service>, Proof) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let plan = delays(svc.config.okta.system_log_wait_secs);
    if plan.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let n = plan.len();
        let mut proof = Proof::Failed("not looked at yet".into());
        for (i, d) in plan.into_iter().enumerate() {
            tokio::time::sleep(d).await;
            proof = look(&svc, &r, &targets, i + 1 == n).await;
            if !proof.pending(&targets) {
                break;
            }
        }
        edit(svc, proof).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_ends_at_the_wait() {
        let d = delays(600);
        assert_eq!(d[0], Duration::from_secs(15));
        assert_eq!(d[1], Duration::from_secs(30));
        assert_eq!(d.iter().sum::<Duration>(), Duration::from_secs(600));
        assert_eq!(delays(0), Vec::<Duration>::new());
    }

    #[test]
    fn the_wait_is_said_in_minutes_or_seconds() {
        assert_eq!(wait_minutes(600), "10 minutes");
        assert_eq!(wait_minutes(60), "1 minute");
        assert_eq!(wait_minutes(2), "2 seconds");
    }
}
