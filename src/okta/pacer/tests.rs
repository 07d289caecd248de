//! The pacer on a hand-moved clock: a discrete-event model of one Okta bucket (windows that start
//! at the first call after the last one ended, `Reset` rounded up to the second, `Date` rounded
//! down), workers with a fixed latency, and another client spending on the side. No real sleeps.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::plan::{headroom, BucketPlan, Verdict, CONCURRENCY_BACKOFF_MS, FALLBACK_INTERVAL_MS};
use super::*;

const T0: i64 = 1_800_000_000_000;

/// One Okta bucket as Okta counts it.
struct Bucket {
    window_ms: i64,
    limit: u64,
    start: Option<i64>,
    used: u64,
    headers: bool,
    /// (window start, our calls counted in it, others' calls in it)
    windows: Vec<(i64, u64, u64)>,
    rejected: u64,
}

impl Bucket {
    fn new(limit: u64, window_ms: i64) -> Self {
        Self {
            window_ms,
            limit,
            start: None,
            used: 0,
            headers: true,
            windows: Vec::new(),
            rejected: 0,
        }
    }

    fn roll(&mut self, now: i64) {
        if self.start.is_none_or(|s| now >= s + self.window_ms) {
            self.start = Some(now);
            self.used = 0;
            self.windows.push((now, 0, 0));
        }
    }

    fn rate(&self, now: i64, remaining: u64) -> RateHeaders {
        if !self.headers {
            return RateHeaders::default();
        }
        let end = self.start.unwrap() + self.window_ms;
        RateHeaders {
            limit: Some(self.limit),
            remaining: Some(remaining),
            reset_epoch: Some(((end + 999) / 1000) as u64),
            date_epoch: Some((now / 1000) as u64),
        }
    }

    fn take(&mut self, now: i64) -> (u16, RateHeaders) {
        self.roll(now);
        if self.used >= self.limit {
            self.rejected += 1;
            return (429, self.rate(now, 0));
        }
        self.used += 1;
        self.windows.last_mut().unwrap().1 += 1;
        (200, self.rate(now, self.limit - self.used))
    }

    fn others(&mut self, now: i64, n: u64) {
        self.roll(now);
        let n = n.min(self.limit - self.used);
        self.used += n;
        self.windows.last_mut().unwrap().2 += n;
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Answer(usize, i64),
    Reserve(usize),
    Others,
}

struct Run {
    /// (sent, status) of every call.
    calls: Vec<(i64, u16)>,
}

/// Runs `workers` callers with `latency_ms` against `bucket` for `secs` of model time; another
/// client spends `others_per_100ms` calls every 100 ms.
fn run(
    plan: &mut BucketPlan,
    bucket: &mut Bucket,
    workers: usize,
    latency_ms: i64,
    secs: i64,
    others_per_100ms: u64,
) -> Run {
    let mut q: BinaryHeap<Reverse<(i64, Ev)>> = BinaryHeap::new();
    for w in 0..workers {
        q.push(Reverse((T0, Ev::Reserve(w))));
    }
    if others_per_100ms > 0 {
        q.push(Reverse((T0, Ev::Others)));
    }
    let end = T0 + secs * 1000;
    let mut calls = Vec::new();
    while let Some(Reverse((t, ev))) = q.pop() {
        if t >= end {
            break;
        }
        match ev {
            Ev::Reserve(w) => match plan.reserve(t) {
                Verdict::Go => q.push(Reverse((t + latency_ms, Ev::Answer(w, t)))),
                Verdict::WaitUntil(at) => {
                    assert!(at > t, "a wait must move time forward");
                    q.push(Reverse((at, Ev::Reserve(w))));
                }
            },
            Ev::Answer(w, sent) => {
                // Okta counts the call when it arrives, half the latency after it was sent.
                let (status, h) = bucket.take(sent + latency_ms / 2);
                plan.answered(t, status, &h, 0);
                calls.push((sent, status));
                q.push(Reverse((t, Ev::Reserve(w))));
            }
            Ev::Others => {
                bucket.others(t, others_per_100ms);
                q.push(Reverse((t + 100, Ev::Others)));
            }
        }
    }
    Run { calls }
}

/// Full windows only (the first and last are partial).
fn full_windows(b: &Bucket) -> &[(i64, u64, u64)] {
    &b.windows[1..b.windows.len().saturating_sub(1)]
}

#[test]
fn spends_at_most_the_share_of_each_window_and_at_least_ninety_percent_of_it() {
    for (limit, window_ms, workers, latency) in [
        (100, 10_000, 2, 150),
        (1000, 10_000, 16, 150),
        (600, 60_000, 8, 80),
    ] {
        let mut plan = BucketPlan::new(0.8);
        let mut b = Bucket::new(limit, window_ms);
        let r = run(&mut plan, &mut b, workers, latency, 300, 0);
        let share = (limit as f64 * 0.8) as u64;
        assert_eq!(b.rejected, 0, "no 429 at limit {limit}");
        assert!(r.calls.iter().all(|c| c.1 == 200));
        let full = full_windows(&b);
        assert!(full.len() >= 3, "{limit}: {} windows", full.len());
        for &(_, ours, _) in full {
            assert!(ours <= share, "limit {limit}: {ours} calls > share {share}");
            assert!(
                ours as f64 >= 0.9 * share as f64,
                "limit {limit}: only {ours} of {share}"
            );
        }
        // Over the whole run (window gaps included), at least 90% of limit × share / window.
        let span = (r.calls.last().unwrap().0 - r.calls[0].0) as f64 / 1000.0;
        let allowed = limit as f64 * 0.8 / (window_ms as f64 / 1000.0);
        let achieved = r.calls.len() as f64 / span;
        assert!(
            achieved >= 0.9 * allowed && achieved <= 1.02 * allowed,
            "limit {limit}: {achieved:.2}/s against {allowed:.2}/s"
        );
    }
}

#[test]
fn calls_are_spread_over_the_window_not_burst() {
    let mut plan = BucketPlan::new(0.8);
    let mut b = Bucket::new(1000, 10_000);
    let r = run(&mut plan, &mut b, 16, 150, 60, 0);
    // In any one second the pace stays near the even 80/s: never a burst of the window's budget.
    let first = r.calls[0].0;
    let mut per_second = vec![0u32; 61];
    for (sent, _) in &r.calls {
        per_second[((sent - first) / 1000) as usize] += 1;
    }
    let busiest = *per_second.iter().max().unwrap();
    assert!(
        busiest <= 130,
        "{busiest} calls in one second: {per_second:?}"
    );
    let quietest = per_second[1..59].iter().min().unwrap();
    assert!(
        *quietest >= 40,
        "a second with {quietest} calls: {per_second:?}"
    );
}

#[test]
fn slows_down_when_another_client_spends_and_leaves_it_room() {
    let mut plan = BucketPlan::new(0.8);
    let mut b = Bucket::new(1000, 10_000);
    // The other client spends 3 every 100 ms: 300 a window, 30% of the limit.
    let r = run(&mut plan, &mut b, 16, 150, 300, 3);
    assert_eq!(b.rejected, 0, "we ran the bucket dry");
    for &(_, ours, others) in full_windows(&b) {
        assert!(others >= 290, "the other client was starved: {others}");
        // Within half the headroom: the projection of others lags their pace a little.
        assert!(
            ours + others <= 1000 - headroom(1000) / 2,
            "{ours}+{others}"
        );
        assert!(ours < 800, "did not slow down: {ours}");
        assert!(ours >= 600, "slowed down too much: {ours}");
    }
    assert!(r.calls.iter().all(|c| c.1 == 200));
}

#[test]
fn a_bucket_without_rate_limit_headers_gets_a_conservative_pace() {
    let mut plan = BucketPlan::new(0.8);
    let mut b = Bucket::new(1000, 10_000);
    b.headers = false;
    let r = run(&mut plan, &mut b, 8, 20, 30, 0);
    // One call at a time, at most two a second, and never stuck.
    assert!(r.calls.len() >= 55, "{} calls in 30 s", r.calls.len());
    for pair in r.calls.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= FALLBACK_INTERVAL_MS, "{pair:?}");
    }
}

#[test]
fn before_the_first_answer_only_one_call_goes() {
    let mut plan = BucketPlan::new(0.8);
    assert_eq!(plan.reserve(T0), Verdict::Go);
    assert!(matches!(plan.reserve(T0), Verdict::WaitUntil(t) if t > T0));
    assert_eq!(plan.in_flight(), 1);
    plan.abandoned();
    assert_eq!(plan.reserve(T0 + 1), Verdict::Go);
}

fn headers(limit: u64, remaining: u64, reset_s: i64, date_s: i64) -> RateHeaders {
    RateHeaders {
        limit: Some(limit),
        remaining: Some(remaining),
        reset_epoch: Some(reset_s as u64),
        date_epoch: Some(date_s as u64),
    }
}

#[test]
fn a_429_waits_until_reset_minus_date_plus_jitter() {
    let mut plan = BucketPlan::new(0.8);
    assert_eq!(plan.reserve(T0), Verdict::Go);
    let now_s = T0 / 1000;
    let pause = plan.answered(T0, 429, &headers(600, 0, now_s + 30, now_s), 250);
    assert_eq!(pause, Some(30_250));
    assert_eq!(plan.reserve(T0 + 1), Verdict::WaitUntil(T0 + 30_250));
    assert_eq!(plan.reserve(T0 + 30_250), Verdict::Go);
}

#[test]
fn okta_s_clock_is_used_when_ours_disagrees() {
    let mut plan = BucketPlan::new(0.8);
    assert_eq!(plan.reserve(T0), Verdict::Go);
    // Okta's clock is an hour ahead of ours: Reset − Date (20 s) counts, not Reset − our now.
    let okta_now = T0 / 1000 + 3600;
    let pause = plan.answered(T0, 429, &headers(600, 0, okta_now + 20, okta_now), 0);
    assert_eq!(pause, Some(20_000));
}

#[test]
fn a_concurrency_429_backs_off_briefly() {
    let mut plan = BucketPlan::new(0.8);
    assert_eq!(plan.reserve(T0), Verdict::Go);
    let h = RateHeaders {
        limit: Some(0),
        remaining: Some(0),
        reset_epoch: Some((T0 / 1000 + 1) as u64),
        date_epoch: None,
    };
    assert_eq!(
        plan.answered(T0, 429, &h, 100),
        Some(CONCURRENCY_BACKOFF_MS + 100)
    );
}

#[test]
fn a_nearly_empty_bucket_pauses_until_its_reset() {
    let mut plan = BucketPlan::new(0.8);
    assert_eq!(plan.reserve(T0), Verdict::Go);
    let s = T0 / 1000;
    // Someone else spent the window: 2 left of 100.
    let pause = plan.answered(T0, 200, &headers(100, 2, s + 7, s), 0);
    assert_eq!(pause, Some(7_000));
    assert_eq!(plan.reserve(T0 + 10), Verdict::WaitUntil(T0 + 7_000));
}

/// A pacer on a hand-moved clock.
fn manual_pacer() -> (crate::clock::ManualClock, Pacer) {
    let clock = crate::clock::ManualClock::new(T0);
    let pacer = Pacer::new(Arc::new(clock.clone()), 0.8);
    (clock, pacer)
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn the_async_pacer_reads_the_injected_clock() {
    let (clock, pacer) = manual_pacer();
    current_thread().block_on(async {
        let slot = pacer.acquire("users_post").await;
        let s = T0 / 1000;
        // A 429 whose window resets 30 s from now on the injected clock.
        let pause = slot.answered(429, &headers(600, 0, s + 30, s)).unwrap();
        assert!(pause >= Duration::from_secs(30) && pause <= Duration::from_millis(30_500));
        // The clock moves past the pause: the next call goes at once.
        clock.advance_secs(31);
        let slot = pacer.acquire("users_post").await;
        drop(slot); // abandoned: frees its place
        clock.advance_secs(1);
        let _again = pacer.acquire("users_post").await;
    });
}

#[test]
fn buckets_follow_okta_endpoint_families() {
    use reqwest::Method;
    let b = |m: Method, p: &str| bucket_of(&m, p);
    assert_eq!(
        b(Method::POST, "/api/v1/users/00u1/lifecycle/reset_password"),
        "user_update"
    );
    assert_eq!(
        b(Method::DELETE, "/api/v1/users/00u1/sessions"),
        "users_sessions"
    );
    assert_eq!(b(Method::GET, "/api/v1/users/a%40b.com"), "user_by_id");
    // A user search is "list users", not "get a user by id", nor anything else.
    assert_eq!(b(Method::GET, "/api/v1/users"), "users");
    assert_eq!(b(Method::GET, "/api/v1/groups"), "groups");
    assert_eq!(b(Method::GET, "/api/v1/groups/00g1"), "group_by_id");
    assert_eq!(b(Method::GET, "/api/v1/groups/00g1/users"), "group_members");
    assert_eq!(b(Method::GET, "/api/v1/iam/assignees/users"), "iam");
    assert_eq!(b(Method::GET, "/api/v1/logs"), "logs");
    assert_eq!(b(Method::GET, "/api/v1/apps"), "api_other");
    // The four lookups of issue 12 no longer share a bucket.
    let lookups = [
        b(Method::GET, "/api/v1/groups/00g1"),
        b(Method::GET, "/api/v1/groups/00g1/users"),
        b(Method::GET, "/api/v1/users"),
        b(Method::GET, "/api/v1/iam/assignees/users"),
    ];
    let distinct: std::collections::HashSet<_> = lookups.iter().collect();
    assert_eq!(distinct.len(), lookups.len());
}

#[test]
fn another_buckets_answers_are_never_read_as_another_clients_spending() {
    // Issue 12: answers of two Okta buckets reached one plan. The search bucket (limit 600) had
    // 590 left; the roles bucket (limit 1200) 1199. Mixed, 1200 − 590 looked like 600 calls by
    // someone else, and the plan waited out the window.
    let mut plan = BucketPlan::new(0.8);
    let s = T0 / 1000;
    assert_eq!(plan.reserve(T0), Verdict::Go);
    plan.answered(T0, 200, &headers(600, 590, s + 50, s), 0);
    for i in 1..40 {
        let now = T0 + i * 500;
        let (limit, remaining, reset) = if i % 2 == 0 {
            (600, 590 - i as u64 / 2, s + 50)
        } else {
            (1200, 1199 - i as u64 / 2, s + 58)
        };
        assert_eq!(plan.reserve(now), Verdict::Go, "call {i}");
        assert!(!plan.waited_for_window());
        plan.answered(now, 200, &headers(limit, remaining, reset, now / 1000), 0);
    }
}

#[test]
fn a_bucket_not_yet_answered_does_not_inherit_another_buckets_state() {
    let (_clock, pacer) = manual_pacer();
    current_thread().block_on(async {
        let s = T0 / 1000;
        // The search bucket is spent (someone else's doing) and paused for 40 s.
        let slot = pacer.acquire("users").await;
        assert!(slot.answered(200, &headers(600, 2, s + 40, s)).is_some());
        // The members bucket has never answered: its first call goes at once.
        let first = pacer.acquire("group_members").await;
        first.answered(200, &headers(500, 499, s + 60, s));
        let _second = pacer.acquire("group_members").await;
        assert_eq!(pacer.window_waits(), 0);
    });
}

#[test]
fn headers_parse_from_an_okta_answer() {
    use reqwest::header::{HeaderName, HeaderValue};
    let mut h = reqwest::header::HeaderMap::new();
    for (k, v) in [
        ("X-Rate-Limit-Limit", "600"),
        ("X-Rate-Limit-Remaining", "0"),
        ("X-Rate-Limit-Reset", "1700000030"),
        ("Date", "Tue, 14 Nov 2023 22:13:20 GMT"),
    ] {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let r = RateHeaders::parse(&h);
    assert_eq!(r, headers(600, 0, 1_700_000_030, 1_700_000_000));
    assert!(r.is_complete() && !r.is_concurrency_limit());
    assert!(!RateHeaders::parse(&reqwest::header::HeaderMap::new()).is_complete());
}
