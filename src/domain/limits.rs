//! Abuse limits (issue 8): how many requests one person may make an hour, how many users they
//! may ask to reset a day, and how many runs may be in progress at once. Pure: the callers read
//! the facts from the store and pass them in with the time; a refusal carries the moment the limit
//! lifts, computed from those facts.
//!
//! Windows roll: a request counts for exactly `window` after it was made (`created_at`), so the
//! limit lifts when enough of the oldest counted requests have left the window.
//!
//! What counts, and why:
//! - **Requests per hour**: every request of that person that was stored — posted for approval
//!   or shown as a dry run — whatever became of it (denied, expired, cancelled, completed). The
//!   point is to bound how often one person can make the bot read Okta and ask approvers, and a
//!   denied request cost both. Requests refused before they were stored (unknown group, a limit)
//!   do not count: nothing was posted; nor does one withdrawn because its approval message could
//!   not be posted (`service::limits` leaves it out).
//! - **Targets per day**: the users to reset (`reset_count`, after protected and unmanaged users
//!   were skipped) of that person's stored requests that were not dry runs, whatever became of
//!   them: what was *asked* to be reset. A denied thousand-user request still counts, or it could
//!   be re-asked until a tired approver clicks. Dry runs reset nobody and never count.
//! - **Runs in progress**: org-wide, requests approved (about to start) or running.

use std::fmt;

pub const HOUR_MS: i64 = 60 * 60 * 1000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// The limits in force (`policy.max_requests_per_hour`, `max_targets_per_day`,
/// `max_runs_in_progress`); each is at least 1 (checked in `config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub requests_per_hour: usize,
    pub targets_per_day: u64,
    pub runs_in_progress: usize,
}

/// One earlier request of the same person, as far as the limits care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earlier {
    /// Unix milliseconds.
    pub created_at: i64,
    /// Users it was to reset.
    pub to_reset: u64,
    pub dry_run: bool,
}

/// What is being asked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// A dry run: counts toward requests per hour only.
    DryRun,
    /// A request whose targets are not resolved yet: it will reset at least one user (a request
    /// with nobody to reset is refused anyway), so a day already full refuses it before Okta is
    /// asked anything.
    Unresolved,
    /// A resolved request that would reset this many users.
    Resets(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitRefusal {
    /// `made` requests in the last hour, at or over `limit`; one more may be made at `lifts_at`.
    Requests {
        made: usize,
        limit: usize,
        lifts_at: i64,
    },
    /// `used` users asked in the last 24 hours; `asking` more would pass `limit`. `lifts_at` is
    /// when enough of them have left the window, `None` if `asking` alone is over the limit.
    Targets {
        used: u64,
        asking: Option<u64>,
        limit: u64,
        lifts_at: Option<i64>,
    },
    /// These runs (request ids) are in progress, as many as `limit`; one must finish first.
    Runs { running: Vec<String>, limit: usize },
}

/// Whether one more request may be made at `now` by someone whose stored requests (any age, any
/// order) are `earlier`. Requests per hour are checked first, then targets per day.
pub fn check_request(
    limits: &Limits,
    earlier: &[Earlier],
    asking: Asking,
    now: i64,
) -> Result<(), LimitRefusal> {
    check_requests_per_hour(limits, earlier, now)?;
    check_targets_per_day(limits, earlier, asking, now)
}

fn in_window(earlier: &[Earlier], now: i64, window: i64) -> Vec<Earlier> {
    let mut v: Vec<Earlier> = earlier
        .iter()
        // A request stamped later than `now` (another replica's clock running ahead) counts too.
        .filter(|e| e.created_at > now - window)
        .copied()
        .collect();
    v.sort_by_key(|e| e.created_at);
    v
}

fn check_requests_per_hour(
    limits: &Limits,
    earlier: &[Earlier],
    now: i64,
) -> Result<(), LimitRefusal> {
    let counted = in_window(earlier, now, HOUR_MS);
    let made = counted.len();
    if made < limits.requests_per_hour {
        return Ok(());
    }
    // One more fits once `made - limit + 1` of the oldest have left the window.
    let leaving = made - limits.requests_per_hour;
    Err(LimitRefusal::Requests {
        made,
        limit: limits.requests_per_hour,
        lifts_at: counted[leaving].created_at + HOUR_MS,
    })
}

fn check_targets_per_day(
    limits: &Limits,
    earlier: &[Earlier],
    asking: Asking,
    now: i64,
) -> Result<(), LimitRefusal> {
    let want = match asking {
        Asking::DryRun => return Ok(()),
        Asking::Unresolved => 1,
        Asking::Resets(n) => n,
    };
    let counted: Vec<Earlier> = in_window(earlier, now, DAY_MS)
        .into_iter()
        .filter(|e| !e.dry_run)
        .collect();
    let used = counted
        .iter()
        .fold(0u64, |sum, e| sum.saturating_add(e.to_reset));
    if used.saturating_add(want) <= limits.targets_per_day {
        return Ok(());
    }
    let asked = match asking {
        Asking::Resets(n) => Some(n),
        _ => None,
    };
    let lifts_at = if want > limits.targets_per_day {
        None
    } else {
        let mut left = used;
        counted.iter().find_map(|e| {
            left = left.saturating_sub(e.to_reset);
            (left.saturating_add(want) <= limits.targets_per_day).then_some(e.created_at + DAY_MS)
        })
    };
    Err(LimitRefusal::Targets {
        used,
        asking: asked,
        limit: limits.targets_per_day,
        lifts_at,
    })
}

/// Whether one more run may start while `in_progress` (request ids, approved or running) are.
pub fn check_runs(limits: &Limits, in_progress: &[String]) -> Result<(), LimitRefusal> {
    if in_progress.len() < limits.runs_in_progress {
        Ok(())
    } else {
        Err(LimitRefusal::Runs {
            running: in_progress.to_vec(),
            limit: limits.runs_in_progress,
        })
    }
}

impl LimitRefusal {
    /// The sentence for the person, with times written by `date` (Slack's `<!date…>` in
    /// messages, which shows the reader's time zone; plain UTC in a form, which shows text
    /// as is). Every sentence says when the limit lifts and which setting it is; the caller
    /// adds what was (not) done.
    pub fn explain(&self, date: impl Fn(i64) -> String) -> String {
        match self {
            Self::Requests {
                made,
                limit,
                lifts_at,
            } => format!(
                "You have made {} in the last hour, and the limit is {limit} an hour per person (`policy.max_requests_per_hour`). You can make another {}.",
                count(*made as u64, "request"),
                date(*lifts_at)
            ),
            Self::Targets {
                used,
                asking: Some(asking),
                limit,
                lifts_at: Some(at),
            } => format!(
                "This request would reset {}; with the {used} you asked to reset in the last 24 hours that is more than the limit of {limit} a day per person (`policy.max_targets_per_day`). It fits from {}, or split it.",
                count(*asking, "user"),
                date(*at)
            ),
            Self::Targets {
                asking: Some(asking),
                limit,
                ..
            } => format!(
                "This request would reset {}, more than the limit of {limit} a day per person (`policy.max_targets_per_day`). Split it over several days, or ask an administrator to raise the limit.",
                count(*asking, "user")
            ),
            Self::Targets {
                used,
                limit,
                lifts_at,
                ..
            } => format!(
                "You asked to reset {} in the last 24 hours, and the limit is {limit} a day per person (`policy.max_targets_per_day`). You can ask for more {}; a `--dry-run` is still possible.",
                count(*used, "user"),
                lifts_at.map(&date).unwrap_or_else(|| "once your earlier requests are a day old".into())
            ),
            Self::Runs { running, limit } => format!(
                "{} {} in progress ({}), the most allowed at once (`policy.max_runs_in_progress` = {limit}). Approve again once {} finished.",
                running.len(),
                if running.len() == 1 { "run is" } else { "runs are" },
                running.join(", "),
                if running.len() == 1 { "it has" } else { "one of them has" },
            ),
        }
    }

    /// A short code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Requests { .. } => "max_requests_per_hour",
            Self::Targets { .. } => "max_targets_per_day",
            Self::Runs { .. } => "max_runs_in_progress",
        }
    }

    /// When the limit lifts (Unix ms), if a time can be given.
    pub fn lifts_at(&self) -> Option<i64> {
        match self {
            Self::Requests { lifts_at, .. } => Some(*lifts_at),
            Self::Targets { lifts_at, .. } => *lifts_at,
            Self::Runs { .. } => None,
        }
    }
}

/// `1 user`, `2 users`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl fmt::Display for LimitRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain(crate::clock::format_utc))
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
