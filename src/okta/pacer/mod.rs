//! Spends Okta's rate-limit budget well: per bucket, a [`plan::BucketPlan`] learns the window
//! from the `X-Rate-Limit-*` headers and says when the next call may go. This wrapper keeps one
//! plan per bucket behind a lock, reads time from the injected [`Clock`] and sleeps between slots.

mod headers;
pub mod plan;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use headers::RateHeaders;
use plan::{BucketPlan, Verdict};

use crate::clock::Clock;

pub struct Pacer {
    clock: Arc<dyn Clock>,
    share: f64,
    buckets: Mutex<HashMap<&'static str, BucketPlan>>,
    warned_missing: AtomicBool,
}

/// A call the pacer let through. Tell it the answer with [`Slot::answered`]; dropped without one
/// (timeout, connection error, cancellation), it frees its place.
pub struct Slot<'a> {
    pacer: &'a Pacer,
    bucket: &'static str,
    done: bool,
}

impl Slot<'_> {
    /// Learns from the answer; returns the pause now in force on the bucket, if any.
    pub fn answered(mut self, status: u16, h: &RateHeaders) -> Option<Duration> {
        self.done = true;
        self.pacer.answered(self.bucket, status, h)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pacer.with(self.bucket, |p| p.abandoned());
        }
    }
}

impl Pacer {
    /// `share`: the most of each window's limit this client may spend (`okta.max_share`).
    pub fn new(clock: Arc<dyn Clock>, share: f64) -> Self {
        Self {
            clock,
            share,
            buckets: Mutex::new(HashMap::new()),
            warned_missing: AtomicBool::new(false),
        }
    }

    fn with<T>(&self, bucket: &'static str, f: impl FnOnce(&mut BucketPlan) -> T) -> T {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        f(map
            .entry(bucket)
            .or_insert_with(|| BucketPlan::new(self.share)))
    }

    /// Waits for `bucket`'s next slot.
    pub async fn acquire(&self, bucket: &'static str) -> Slot<'_> {
        loop {
            let now = self.clock.now_ms();
            match self.with(bucket, |p| p.reserve(now)) {
                Verdict::Go => {
                    return Slot {
                        pacer: self,
                        bucket,
                        done: false,
                    }
                }
                Verdict::WaitUntil(t) => {
                    let ms = u64::try_from(t - now).unwrap_or(0).max(1);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    crate::metrics::pacer_waited(Duration::from_millis(ms));
                }
            }
        }
    }

    fn answered(&self, bucket: &'static str, status: u16, h: &RateHeaders) -> Option<Duration> {
        let now = self.clock.now_ms();
        if status < 500
            && !h.is_complete()
            && !h.is_concurrency_limit()
            && !self.warned_missing.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                bucket,
                "Okta's answer carried no rate-limit headers; pacing conservatively"
            );
        }
        let pause = self.with(bucket, |p| p.answered(now, status, h, jitter_ms(500)));
        pause.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
    }
}

fn jitter_ms(max: i64) -> i64 {
    use rand::Rng;
    rand::thread_rng().gen_range(0..=max)
}

/// Okta's rate-limit bucket for a call (per-endpoint families, as Okta documents them).
pub fn bucket_of(method: &reqwest::Method, path: &str) -> &'static str {
    let rest = path.strip_prefix("/api/v1/");
    match (method.as_str(), rest) {
        ("POST", Some(r)) if r.starts_with("users/") => "users_post",
        // Session revocations (`--contain`) get their own budget, under the same `max_share`,
        // so ending sessions never eats into the resets' window nor the other way round.
        ("DELETE", Some(r)) if r.starts_with("users/") && r.ends_with("/sessions") => {
            "users_sessions"
        }
        ("GET", Some(r)) if r.starts_with("users/") && r.matches('/').count() == 1 => "users_get",
        ("GET", Some("groups")) => "groups",
        _ => "other",
    }
}
