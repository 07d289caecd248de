//! The `X-Rate-Limit-*` headers (and `Date`) of one Okta answer.

use std::time::UNIX_EPOCH;

use reqwest::header::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateHeaders {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// When the window resets, UTC epoch seconds.
    pub reset_epoch: Option<u64>,
    /// Okta's clock (`Date`), epoch seconds.
    pub date_epoch: Option<u64>,
}

impl RateHeaders {
    pub fn parse(h: &HeaderMap) -> Self {
        let num = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let date_epoch = h
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        Self {
            limit: num("x-rate-limit-limit"),
            remaining: num("x-rate-limit-remaining"),
            reset_epoch: num("x-rate-limit-reset"),
            date_epoch,
        }
    }

    /// A concurrency 429 reports `Limit: 0, Remaining: 0`.
    pub fn is_concurrency_limit(&self) -> bool {
        self.limit == Some(0) && self.remaining == Some(0)
    }

    /// All three rate-limit headers are there and usable.
    pub fn is_complete(&self) -> bool {
        matches!(
            (self.limit, self.remaining, self.reset_epoch),
            (Some(l), Some(_), Some(_)) if l > 0
        )
    }

    /// Milliseconds from `now_ms` (our clock) until the window resets, by Okta's own clock
    /// (`Reset − Date`) when the two clocks disagree by more than two seconds; otherwise by ours,
    /// which has millisecond precision where `Date` has whole seconds.
    pub fn until_reset_ms(&self, now_ms: i64) -> Option<i64> {
        let reset_ms = i64::try_from(self.reset_epoch?).ok()?.saturating_mul(1000);
        let by_local = reset_ms - now_ms;
        match self.date_epoch.and_then(|d| i64::try_from(d).ok()) {
            Some(date) if (date * 1000 - now_ms).abs() > 2000 => Some(reset_ms - date * 1000),
            _ => Some(by_local),
        }
    }
}
