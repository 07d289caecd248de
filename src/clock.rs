//! Time as a dependency, so approval expiry and signature windows can be tested at fixed times.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that tests move by hand, starting from the system time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_ms)))
    }

    pub fn starting_now() -> Self {
        Self::new(SystemClock.now_ms())
    }

    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `2026-11-27 05:17:11 UTC` for a Unix-millisecond time (used in transcripts and fallbacks).
pub fn format_utc(ms: i64) -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// `2026-11-27T05:17:11.123Z` (RFC 3339, UTC, milliseconds) for exports and results files.
pub fn format_rfc3339(ms: i64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Unix milliseconds from RFC 3339 (`2026-11-27T09:30:00Z`, any offset) or a date
/// (`2026-11-27`, midnight UTC). `None` for anything else.
pub fn parse_time(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
    }
    let date_fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &date_fmt).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() * 1000)
}

#[cfg(test)]
mod time_format_tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_dates_mean_midnight_utc() {
        let ms = 1_764_220_631_123; // 2025-11-27T05:17:11.123Z
        assert_eq!(format_rfc3339(ms), "2025-11-27T05:17:11.123Z");
        assert_eq!(parse_time("2025-11-27T05:17:11.123Z"), Some(ms));
        assert_eq!(parse_time("2025-11-27T06:17:11.123+01:00"), Some(ms));
        assert_eq!(parse_time("2025-11-27"), Some(1_764_201_600_000));
        for bad in ["yesterday", "", "2025-13-01", "27/11/2025", "1764220631"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
