//! Per-bucket rate-limit windows and the org-wide concurrency counter.
//!
//! A bucket's window starts at its first call after the previous window ended (not aligned to the
//! clock), like Okta's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Okta's rate-limit buckets, one per endpoint family as Okta's "Management rate limits" page
/// lists them; each has its own limit and its own window, so an answer's headers describe only
/// the bucket of that call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `POST`/`PUT`/`DELETE /api/v1/users/{id}…` (the lifecycle reset).
    UsersPost,
    /// `GET /api/v1/users/{idOrLogin}`.
    UsersGet,
    /// `GET`/`POST /api/v1/users`: list, search, create.
    UsersList,
    /// `/api/v1/groups` except `/api/v1/groups/{id}`: group search, and (read literally) the
    /// group's sub-resources such as `/api/v1/groups/{id}/users`.
    Groups,
    /// `/api/v1/groups/{id}` only.
    GroupById,
    /// `DELETE /api/v1/users/{id}/sessions` (revocations, paced apart from resets).
    UsersSessions,
    /// Most other `/api/v1` calls (admin-role assignees among them).
    Other,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::UsersPost,
        Bucket::UsersGet,
        Bucket::UsersList,
        Bucket::Groups,
        Bucket::GroupById,
        Bucket::Other,
        Bucket::UsersSessions,
    ];

    pub(crate) fn index(self) -> usize {
        match self {
            Bucket::UsersPost => 0,
            Bucket::UsersGet => 1,
            Bucket::UsersList => 2,
            Bucket::Groups => 3,
            Bucket::GroupById => 4,
            Bucket::Other => 5,
            Bucket::UsersSessions => 6,
        }
    }
}

/// Calls allowed per window, per bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketLimits {
    pub users_post: u32,
    pub users_get: u32,
    pub users_list: u32,
    pub groups: u32,
    pub group_by_id: u32,
    pub other: u32,
    pub users_sessions: u32,
}

/// Okta's published per-minute limits (Workforce Identity).
impl Default for BucketLimits {
    fn default() -> Self {
        BucketLimits {
            users_post: 600,
            users_get: 2000,
            users_list: 600,
            groups: 500,
            group_by_id: 1000,
            other: 1200,
            users_sessions: 600,
        }
    }
}

impl BucketLimits {
    /// The same limit for every bucket.
    pub fn uniform(n: u32) -> BucketLimits {
        BucketLimits {
            users_post: n,
            users_get: n,
            users_list: n,
            groups: n,
            group_by_id: n,
            other: n,
            users_sessions: n,
        }
    }

    pub fn get(&self, bucket: Bucket) -> u32 {
        match bucket {
            Bucket::UsersPost => self.users_post,
            Bucket::UsersGet => self.users_get,
            Bucket::UsersList => self.users_list,
            Bucket::Groups => self.groups,
            Bucket::GroupById => self.group_by_id,
            Bucket::Other => self.other,
            Bucket::UsersSessions => self.users_sessions,
        }
    }
}

/// What goes into the `X-Rate-Limit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    /// UTC epoch seconds, rounded up.
    pub reset: u64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    start: Option<Instant>,
    used: u32,
}

/// The windows of every bucket. Not synchronised: the caller holds a lock.
#[derive(Debug)]
pub struct RateLimiter {
    window: Duration,
    limits: BucketLimits,
    windows: [Window; Bucket::ALL.len()],
}

impl RateLimiter {
    pub fn new(window: Duration, limits: BucketLimits) -> RateLimiter {
        RateLimiter {
            window,
            limits,
            windows: [Window::default(); Bucket::ALL.len()],
        }
    }

    /// The bucket's current window, starting a fresh one if the last has ended.
    fn current(&mut self, bucket: Bucket, now: Instant) -> &mut Window {
        let window = self.window;
        let w = &mut self.windows[bucket.index()];
        let expired = match w.start {
            None => true,
            Some(start) => now >= start + window,
        };
        if expired {
            w.start = Some(now);
            w.used = 0;
        }
        w
    }

    fn headers(&self, bucket: Bucket, now: Instant) -> RateHeaders {
        let limit = self.limits.get(bucket);
        let w = &self.windows[bucket.index()];
        let (remaining, end) = match w.start {
            Some(start) if now < start + self.window => {
                (limit.saturating_sub(w.used), start + self.window)
            }
            _ => (limit, now + self.window),
        };
        RateHeaders {
            limit,
            remaining,
            reset: epoch_ceil(end, now),
        }
    }

    /// Counts one call; `Err` carries the 429 headers when the bucket is spent.
    pub fn take(&mut self, bucket: Bucket, now: Instant) -> Result<RateHeaders, RateHeaders> {
        let limit = self.limits.get(bucket);
        let w = self.current(bucket, now);
        if w.used >= limit {
            let mut h = self.headers(bucket, now);
            h.remaining = 0;
            return Err(h);
        }
        w.used += 1;
        Ok(self.headers(bucket, now))
    }

    /// Headers for a response that does not consume the bucket (401, injected 5xx).
    pub fn peek(&self, bucket: Bucket, now: Instant) -> RateHeaders {
        self.headers(bucket, now)
    }

    /// Another client spends `n` calls of the bucket's current window.
    pub fn consume(&mut self, bucket: Bucket, n: u32, now: Instant) {
        let w = self.current(bucket, now);
        w.used = w.used.saturating_add(n);
    }
}

/// UTC epoch seconds (rounded up) of `at`, an instant relative to `now`.
pub fn epoch_ceil(at: Instant, now: Instant) -> u64 {
    let wall = SystemTime::now() + at.saturating_duration_since(now);
    let d = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Requests in flight; a guard decrements on drop (also when the client goes away).
#[derive(Debug, Default)]
pub struct InFlight {
    current: AtomicUsize,
    peak: AtomicUsize,
}

pub struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.current.fetch_sub(1, Ordering::SeqCst);
    }
}

impl InFlight {
    /// Enters; returns the guard and how many requests are now in flight (this one included).
    pub fn enter(this: &Arc<InFlight>) -> (InFlightGuard, usize) {
        let n = this.current.fetch_add(1, Ordering::SeqCst) + 1;
        this.peak.fetch_max(n, Ordering::SeqCst);
        (InFlightGuard(this.clone()), n)
    }

    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_at_first_call_and_refills() {
        let mut rl = RateLimiter::new(Duration::from_secs(10), BucketLimits::uniform(2));
        let t0 = Instant::now();
        assert_eq!(rl.take(Bucket::Groups, t0).unwrap().remaining, 1);
        assert_eq!(
            rl.take(Bucket::Groups, t0 + Duration::from_secs(1))
                .unwrap()
                .remaining,
            0
        );
        let refused = rl
            .take(Bucket::Groups, t0 + Duration::from_secs(9))
            .unwrap_err();
        assert_eq!((refused.limit, refused.remaining), (2, 0));
        // Other buckets are independent.
        assert_eq!(rl.take(Bucket::Other, t0).unwrap().remaining, 1);
        // New window 10 s after the first call.
        let h = rl
            .take(Bucket::Groups, t0 + Duration::from_secs(10))
            .unwrap();
        assert_eq!(h.remaining, 1);
    }

    #[test]
    fn consume_spends_budget() {
        let mut rl = RateLimiter::new(Duration::from_secs(60), BucketLimits::uniform(5));
        let t0 = Instant::now();
        rl.consume(Bucket::UsersPost, 4, t0);
        assert_eq!(rl.peek(Bucket::UsersPost, t0).remaining, 1);
        assert!(rl.take(Bucket::UsersPost, t0).is_ok());
        assert!(rl.take(Bucket::UsersPost, t0).is_err());
        assert_eq!(rl.peek(Bucket::UsersGet, t0).remaining, 5);
    }
}
