//! Spends Okta's rate-limit budget without running it dry. Per bucket, it remembers the last
//! `X-Rate-Limit-*` headers; when a bucket is nearly empty, or Okta answered 429, every caller of
//! that bucket waits until the window resets. Limits are read from headers, never hard-coded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Calls kept in reserve per bucket: when `Remaining` drops to this, wait for the next window.
/// Leaves room for Okta's other integrations and for our own calls already in flight.
const RESERVE: u64 = 2;
/// Wait used when a 429 carries no usable reset time.
const FALLBACK_WAIT: Duration = Duration::from_secs(5);
/// Longest single wait we accept from a header (windows are about 60 s).
const MAX_WAIT: Duration = Duration::from_secs(90);

#[derive(Debug, Default)]
pub struct Pacer {
    buckets: Mutex<HashMap<&'static str, Instant>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset_epoch: Option<u64>,
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

    /// How long until the window resets, by Okta's own clock (`Reset − Date`) when it sent one,
    /// plus a second of margin.
    pub fn until_reset(&self) -> Option<Duration> {
        let reset = self.reset_epoch?;
        let now = self.date_epoch.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
        Some(Duration::from_secs(reset.saturating_sub(now) + 1).min(MAX_WAIT))
    }

    /// A concurrency 429 reports `Limit: 0, Remaining: 0`.
    pub fn is_concurrency_limit(&self) -> bool {
        self.limit == Some(0) && self.remaining == Some(0)
    }
}

impl Pacer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits while `bucket` is paused.
    pub async fn wait(&self, bucket: &'static str) {
        loop {
            let until = self
                .buckets
                .lock()
                .expect("pacer lock")
                .get(bucket)
                .copied();
            match until {
                Some(t) if t > Instant::now() => {
                    let from = Instant::now();
                    tokio::time::sleep_until(t).await;
                    crate::metrics::pacer_waited(from.elapsed());
                }
                _ => return,
            }
        }
    }

    /// Learns from a response. Returns how long the bucket is now paused, if it is.
    pub fn observe(&self, bucket: &'static str, status: u16, h: &RateHeaders) -> Option<Duration> {
        let pause = if status == 429 {
            if h.is_concurrency_limit() {
                Some(Duration::from_millis(1000 + jitter_ms(500)))
            } else {
                Some(
                    h.until_reset().unwrap_or(FALLBACK_WAIT)
                        + Duration::from_millis(jitter_ms(500)),
                )
            }
        } else {
            match (h.remaining, h.limit) {
                (Some(rem), Some(limit)) if limit > 0 && rem <= RESERVE => {
                    Some(h.until_reset().unwrap_or(FALLBACK_WAIT))
                }
                _ => None,
            }
        }?;
        let until = Instant::now() + pause;
        let mut b = self.buckets.lock().expect("pacer lock");
        let slot = b.entry(bucket).or_insert(until);
        if *slot < until {
            *slot = until;
        }
        Some(pause)
    }
}

fn jitter_ms(max: u64) -> u64 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..=max)
}

/// Okta's rate-limit bucket for a call (per-endpoint families, as Okta documents them).
pub fn bucket_of(method: &reqwest::Method, path: &str) -> &'static str {
    let rest = path.strip_prefix("/api/v1/");
    match (method.as_str(), rest) {
        ("POST", Some(r)) if r.starts_with("users/") => "users_post",
        ("GET", Some(r)) if r.starts_with("users/") && r.matches('/').count() == 1 => "users_get",
        ("GET", Some("groups")) => "groups",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> RateHeaders {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        RateHeaders::parse(&h)
    }

    #[test]
    fn waits_reset_minus_date_plus_a_second() {
        let h = headers(&[
            ("X-Rate-Limit-Limit", "600"),
            ("X-Rate-Limit-Remaining", "0"),
            ("X-Rate-Limit-Reset", "1700000030"),
            (
                "Date",
                &httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(1700000000)),
            ),
        ]);
        assert_eq!(h.until_reset(), Some(Duration::from_secs(31)));
        assert!(!h.is_concurrency_limit());
    }

    #[test]
    fn concurrency_429_is_recognised() {
        let h = headers(&[("X-Rate-Limit-Limit", "0"), ("X-Rate-Limit-Remaining", "0")]);
        assert!(h.is_concurrency_limit());
        let p = Pacer::new();
        let pause = p.observe("users_post", 429, &h).unwrap();
        assert!(pause >= Duration::from_secs(1) && pause <= Duration::from_millis(1500));
    }

    #[test]
    fn missing_headers_fall_back_to_a_conservative_pause_on_429_and_none_otherwise() {
        let p = Pacer::new();
        let none = headers(&[]);
        assert_eq!(p.observe("other", 200, &none), None);
        let pause = p.observe("other", 429, &none).unwrap();
        assert!(pause >= FALLBACK_WAIT);
    }

    #[test]
    fn a_nearly_empty_bucket_pauses_before_okta_says_429() {
        let p = Pacer::new();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let h = headers(&[
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "2"),
            ("X-Rate-Limit-Reset", &(now + 3).to_string()),
        ]);
        assert!(p.observe("users_post", 200, &h).is_some());
        let h = headers(&[
            ("X-Rate-Limit-Limit", "100"),
            ("X-Rate-Limit-Remaining", "50"),
            ("X-Rate-Limit-Reset", &(now + 3).to_string()),
        ]);
        assert_eq!(p.observe("users_get", 200, &h), None);
    }

    #[test]
    fn buckets_follow_okta_endpoint_families() {
        use reqwest::Method;
        assert_eq!(
            bucket_of(&Method::POST, "/api/v1/users/00u1/lifecycle/reset_password"),
            "users_post"
        );
        assert_eq!(
            bucket_of(&Method::GET, "/api/v1/users/a%40b.com"),
            "users_get"
        );
        assert_eq!(bucket_of(&Method::GET, "/api/v1/users"), "other");
        assert_eq!(bucket_of(&Method::GET, "/api/v1/groups"), "groups");
        assert_eq!(
            bucket_of(&Method::GET, "/api/v1/groups/00g1/users"),
            "other"
        );
    }
}
