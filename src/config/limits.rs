//! `policy.max_requests_per_hour`, `max_targets_per_day`, `max_runs_in_progress`: defaults
//! and validation (the limits themselves are in `domain::limits`).

use super::RawPolicy;

/// Ten an hour: an incident rarely needs more than a few requests (and a dry run or two) from one
/// person; a script or a stolen session asking more is stopped within minutes.
pub(super) fn default_max_requests_per_hour() -> usize {
    10
}
/// Two at once: a second incident need not wait for the first's run, and the runs share Okta's
/// rate limits, so more at once only makes each slower.
pub(super) fn default_max_runs_in_progress() -> usize {
    2
}
/// Upper bounds past which a limit is a typo rather than a choice.
const MAX_REQUESTS_PER_HOUR_CAP: usize = 1000;
const MAX_TARGETS_PER_DAY_CAP: u64 = 10_000_000;
const MAX_RUNS_IN_PROGRESS_CAP: usize = 100;

/// The abuse limits (see `domain::limits`); returns `max_targets_per_day` with its default.
pub(super) fn check(raw: &RawPolicy, p: &mut Vec<String>) -> u64 {
    if !(1..=MAX_REQUESTS_PER_HOUR_CAP).contains(&raw.max_requests_per_hour) {
        p.push(format!(
            "policy.max_requests_per_hour: use 1 to {MAX_REQUESTS_PER_HOUR_CAP} (requests one person may make in a rolling hour; 0 would refuse every request)"
        ));
    }
    if !(1..=MAX_RUNS_IN_PROGRESS_CAP).contains(&raw.max_runs_in_progress) {
        p.push(format!(
            "policy.max_runs_in_progress: use 1 to {MAX_RUNS_IN_PROGRESS_CAP} (runs approved or running at once; 0 would refuse every approval)"
        ));
    }
    let max_targets = raw.max_targets as u64;
    let per_day = raw
        .max_targets_per_day
        .unwrap_or_else(|| max_targets.saturating_mul(2));
    if raw.max_targets_per_day.is_some() {
        if per_day == 0 || per_day > MAX_TARGETS_PER_DAY_CAP {
            p.push(format!(
                "policy.max_targets_per_day: use 1 to {MAX_TARGETS_PER_DAY_CAP} (users one person may ask to reset in a rolling 24 hours), or leave it out for twice policy.max_targets"
            ));
        } else if per_day < max_targets {
            p.push(format!(
                "policy.max_targets_per_day ({per_day}) is less than policy.max_targets ({max_targets}), so a request the latter allows could never be made: use at least {max_targets}, or leave it out for twice policy.max_targets"
            ));
        }
    }
    per_day
}
