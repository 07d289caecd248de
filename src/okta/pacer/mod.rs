//! Spends Okta's rate-limit budget well: per bucket, a [`plan::BucketPlan`] learns the window
//! from the `X-Rate-Limit-*` headers and says when the next call may go. This wrapper keeps one
//! plan per bucket behind a lock, reads time from the injected [`Clock`] and sleeps between slots.
//!
//! # Buckets
//!
//! Okta counts calls per endpoint family, each family with its own limit and its own window
//! (Okta's "Management rate limits" page, Workforce Identity column, per minute):
//!
//! | Okta's family                                              | pacer bucket    | limit |
//! |------------------------------------------------------------|-----------------|-------|
//! | `GET`/`POST /api/v1/users` (list, search, create)          | `users`         | 600   |
//! | `GET /api/v1/users/{idOrLogin}`                            | `user_by_id`    | 2,000 |
//! | `POST`/`PUT`/`DELETE /api/v1/users/{id}…` (lifecycle reset)| `user_update`   | 600   |
//! | `/api/v1/groups` except `/api/v1/groups/{id}` (search)     | `groups`        | 500   |
//! | `/api/v1/groups/{id}` only                                 | `group_by_id`   | 1,000 |
//! | `/api/v1/logs`                                             | `logs`          | 120   |
//! | most other `/api/v1` (roles: `/api/v1/iam/…`)              | `api_other`     | 1,200 |
//!
//! Where Okta's table leaves an endpoint's family unclear, the pacer gives it a bucket of its own
//! rather than share one: `GET /api/v1/groups/{id}/users` (members: "`/api/v1/groups` except
//! `/api/v1/groups/{id}`" reads as the groups family, but the table does not name it) is
//! `group_members`, and `/api/v1/iam/…` is `iam`. A bucket split finer than Okta's is safe: its
//! plan sees the sibling's calls as someone else's spending, which they are. A bucket coarser
//! than Okta's is not: answers from two families carry two unrelated `Limit`/`Remaining`/`Reset`
//! triples, and a plan mixing them read another family's lower `Remaining` as hundreds of calls
//! by another client and waited out a window it had barely touched (issue 12: lookups that took
//! 40–60 s at one a couple of seconds). So:
//!
//! - an answer's headers only ever update the plan of the bucket its call was paced in;
//! - a bucket's plan starts knowing nothing, whatever its neighbours learned (its first call is a
//!   probe, one at a time, until an answer tells it its own limit);
//! - "another client" is only ever inferred from one bucket's own answers, and a plan that sees
//!   its `Limit` change (two families after all, or Okta changed it) starts over rather than
//!   compare the two (see [`plan`]).
//!
//! The limits are never hard-coded here: they are read from each answer. The table is what the
//! simulated org (`sim::okta::ratelimit`) applies by default.

mod headers;
pub mod plan;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Calls that had to wait for a bucket's window (spent or paused), not just to be spaced.
    window_waits: AtomicU64,
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
            window_waits: AtomicU64::new(0),
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
        let mut window_wait = false;
        loop {
            let now = self.clock.now_ms();
            let (verdict, waits) = self.with(bucket, |p| (p.reserve(now), p.waited_for_window()));
            if waits && !window_wait {
                window_wait = true;
                self.window_waits.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    bucket,
                    "waiting for the Okta rate-limit window of this bucket"
                );
            }
            match verdict {
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

    /// Calls so far that waited for a bucket's window (not merely spaced out).
    pub fn window_waits(&self) -> u64 {
        self.window_waits.load(Ordering::Relaxed)
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

/// The pacer bucket of a call: one per Okta endpoint family (see the module doc).
pub fn bucket_of(method: &reqwest::Method, path: &str) -> &'static str {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return "api_other";
    };
    let seg: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let get = *method == reqwest::Method::GET;
    match seg.as_slice() {
        ["users"] => "users",
        ["users", _] if get => "user_by_id",
        // Session revocations (`--contain`) get their own budget, under the same `max_share`,
        // so ending sessions never eats into the resets' window nor the other way round.
        ["users", _, "sessions"] if *method == reqwest::Method::DELETE => "users_sessions",
        ["users", _, ..] if !get => "user_update",
        ["groups"] => "groups",
        ["groups", _] => "group_by_id",
        ["groups", _, "users"] => "group_members",
        ["groups", ..] => "groups",
        ["iam", ..] => "iam",
        ["logs", ..] => "logs",
        _ => "api_other",
    }
}
