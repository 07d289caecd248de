//! One rate-limit bucket's plan: pure arithmetic on times in milliseconds, so it is tested on a
//! hand-moved clock. The async `Pacer` asks it when the next call may go and tells it each answer.
//!
//! - The budget is learned from `X-Rate-Limit-Limit/-Remaining/-Reset`, never hard-coded.
//! - We spend at most `share` of each window's limit, and less when someone else is spending:
//!   whatever `Remaining` lost beyond our own answered calls is another client's, projected over
//!   the window, and kept free for them (plus a small headroom).
//! - Calls are spread evenly over what is left of the window (never faster than twice the even
//!   pace, so a late start is not made up in a burst).
//! - A 429 pauses the bucket until `Reset` (by Okta's clock) plus jitter; answers without the
//!   headers fall back to a conservative pace, one call at a time.
//! - A plan belongs to one bucket. If its `Limit` changes, the answers come from another bucket
//!   (or Okta changed the limit): nothing learned before is compared with them — above all, the
//!   other bucket's lower `Remaining` is never taken for another client's spending.

/// Okta rounds `Reset` up to the second. When we did not see a window start, plan to finish its
/// budget half a second early, which is the true end on average.
const RESET_ROUNDING_MS: i64 = 500;
/// After the estimated end of a spent window, the next call waits this much longer.
const END_MARGIN_MS: i64 = 100;
/// The shortest span the rest of a window's budget is spread over.
const MIN_SPAN_MS: i64 = 50;
/// Pace when answers carry no rate-limit headers: one call at a time, two a second at most.
pub const FALLBACK_INTERVAL_MS: i64 = 500;
/// Before the first answer, and while one call is out without headers, poll this often.
const PROBE_POLL_MS: i64 = 20;
/// Pause after a 429 that says nothing usable about its window.
const FALLBACK_429_MS: i64 = 5_000;
/// Brief back-off after a concurrency 429 (`Limit: 0`), before jitter.
pub const CONCURRENCY_BACKOFF_MS: i64 = 1_000;
/// Longest pause accepted from a header (windows are about 60 s).
const MAX_WAIT_MS: i64 = 90_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Ask again at this time (our clock, Unix ms).
    WaitUntil(i64),
}

/// The window the latest answers belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    reset_epoch: u64,
    /// When it ends on our clock, by `Reset` (rounded up to the second).
    end_ms: i64,
    /// Our best estimate of the true end: windows last whole seconds, so when we saw the window
    /// start (its first calls), it ends at that start's fraction of a second before `Reset`.
    est_end_ms: i64,
    /// Our answers counted in it.
    ours: u64,
    /// Lowest `Remaining` seen in it (answers arrive out of order).
    min_remaining: u64,
}

#[derive(Debug, Clone)]
pub struct BucketPlan {
    share: f64,
    limit: Option<u64>,
    window: Option<Window>,
    /// Longest window seen, from `Reset` at its first answer (Okta's are about 60 s).
    window_len_ms: Option<i64>,
    /// Other clients' calls seen in the previous window.
    prev_others: u64,
    paused_until: i64,
    next_slot: i64,
    in_flight: u64,
    answered: bool,
    headers_missing: bool,
    /// Whether the last `reserve` was refused because the window was spent or the bucket paused
    /// (rather than to space calls out).
    window_wait: bool,
}

/// Calls kept free beyond what others are seen to spend: 2% of the limit, at least 2.
pub fn headroom(limit: u64) -> u64 {
    (limit / 50).max(2)
}

impl BucketPlan {
    pub fn new(share: f64) -> Self {
        Self {
            share: share.clamp(0.01, 1.0),
            limit: None,
            window: None,
            window_len_ms: None,
            prev_others: 0,
            paused_until: 0,
            next_slot: 0,
            in_flight: 0,
            answered: false,
            headers_missing: false,
            window_wait: false,
        }
    }

    /// Our share of a window: `limit × share`, at least one call.
    fn share_budget(&self, limit: u64) -> u64 {
        ((limit as f64 * self.share).floor() as u64).max(1)
    }

    /// Other clients' calls in the window so far: what `Remaining` lost beyond our answered calls
    /// and those still in flight (which Okta may already have counted).
    fn others(&self, w: &Window, limit: u64) -> u64 {
        limit
            .saturating_sub(w.min_remaining)
            .saturating_sub(w.ours)
            .saturating_sub(self.in_flight)
    }

    /// Others' calls expected over the whole window: the pace so far, or the previous window's
    /// total early on when the pace is still noise.
    fn projected_others(&self, w: &Window, limit: u64, now: i64) -> u64 {
        let seen = self.others(w, limit);
        let len = self.window_len_ms.unwrap_or(60_000).max(1);
        let elapsed = (now - (w.end_ms - len)).clamp(0, len);
        let frac = elapsed as f64 / len as f64;
        let by_pace = if frac >= 0.25 {
            (seen as f64 / frac).ceil() as u64
        } else {
            self.prev_others
        };
        seen.max(by_pace).min(limit)
    }

    /// The calls we allow ourselves in window `w`.
    pub fn budget(&self, now: i64) -> Option<u64> {
        let limit = self.limit?;
        let w = self.window.as_ref()?;
        let room = limit.saturating_sub(headroom(limit) + self.projected_others(w, limit, now));
        Some(self.share_budget(limit).min(room))
    }

    /// Whether a call may go now; if it may, it is counted as in flight until `answered` or
    /// `abandoned`.
    pub fn reserve(&mut self, now: i64) -> Verdict {
        self.window_wait = false;
        if now < self.paused_until {
            self.window_wait = true;
            return Verdict::WaitUntil(self.paused_until);
        }
        let Some(limit) = self.limit.filter(|_| !self.headers_missing) else {
            return self.reserve_blind(now);
        };
        let share_budget = self.share_budget(limit);
        let even = self.window_len_ms.unwrap_or(60_000) / share_budget as i64;
        let interval = match self.window {
            Some(w) if now < w.end_ms => {
                let budget = self.budget(now).unwrap_or(share_budget);
                let used = w.ours + self.in_flight;
                if used >= budget {
                    // Spent: the next call waits for the window's estimated end, or for `Reset`
                    // itself once that estimate has passed without a new window showing up.
                    self.window_wait = true;
                    let probe = w.est_end_ms + END_MARGIN_MS;
                    return Verdict::WaitUntil(if now < probe { probe } else { w.end_ms });
                }
                let span = (w.est_end_ms - now).max(MIN_SPAN_MS);
                (span / (budget - used) as i64).max(even / 2)
            }
            // Between windows: the next one starts with our next call.
            _ => even,
        };
        let slot = self.next_slot.max(now);
        if slot > now {
            return Verdict::WaitUntil(slot);
        }
        self.next_slot = now + interval;
        self.in_flight += 1;
        Verdict::Go
    }

    /// Nothing learned yet, or answers without headers: one call at a time, conservatively paced.
    fn reserve_blind(&mut self, now: i64) -> Verdict {
        if self.in_flight > 0 {
            return Verdict::WaitUntil(now + PROBE_POLL_MS);
        }
        if self.answered {
            let slot = self.next_slot.max(now);
            if slot > now {
                return Verdict::WaitUntil(slot);
            }
            self.next_slot = now + FALLBACK_INTERVAL_MS;
        }
        self.in_flight += 1;
        Verdict::Go
    }

    /// A reserved call ended without an answer (timeout, connection error, cancelled).
    pub fn abandoned(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Learns from an answer to a reserved call. `jitter_ms` is added to 429 pauses (random in
    /// production, fixed in tests). Returns the pause now in force, if any.
    pub fn answered(
        &mut self,
        now: i64,
        status: u16,
        h: &super::RateHeaders,
        jitter_ms: i64,
    ) -> Option<i64> {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.answered = true;
        if status == 429 {
            let wait = if h.is_concurrency_limit() {
                CONCURRENCY_BACKOFF_MS
            } else {
                h.until_reset_ms(now)
                    .unwrap_or(FALLBACK_429_MS)
                    .clamp(0, MAX_WAIT_MS)
            };
            self.pause(now + wait + jitter_ms.max(0));
            if h.is_complete() {
                self.learn(now, h);
            }
            return Some(self.paused_until - now);
        }
        if !h.is_complete() {
            self.headers_missing = true;
            self.next_slot = self.next_slot.max(now + FALLBACK_INTERVAL_MS);
            return None;
        }
        self.headers_missing = false;
        self.learn(now, h);
        let limit = self.limit?;
        let w = self.window?;
        if w.min_remaining <= headroom(limit) {
            // Nearly empty: whoever spent it, wait for the next window rather than run it dry.
            self.pause(w.end_ms);
        }
        (self.paused_until > now).then(|| self.paused_until - now)
    }

    fn pause(&mut self, until: i64) {
        self.paused_until = self.paused_until.max(until);
    }

    fn learn(&mut self, now: i64, h: &super::RateHeaders) {
        let (Some(limit), Some(remaining), Some(reset)) = (h.limit, h.remaining, h.reset_epoch)
        else {
            return;
        };
        if self.limit.is_some_and(|l| l != limit) {
            // Another bucket's answer, or a new limit: the window, its length and what others
            // spent in it were learned under the old one and say nothing about this one.
            self.window = None;
            self.window_len_ms = None;
            self.prev_others = 0;
        }
        self.limit = Some(limit);
        let end_ms = now + h.until_reset_ms(now).unwrap_or(0).clamp(0, MAX_WAIT_MS);
        match &mut self.window {
            Some(w) if w.reset_epoch == reset => {
                w.ours += 1;
                w.min_remaining = w.min_remaining.min(remaining);
            }
            // A late answer from a window already over: it tells nothing about the current one.
            Some(w) if reset < w.reset_epoch => {}
            _ => {
                if let Some(old) = self.window {
                    self.prev_others = self.others(&old, limit);
                }
                let len = end_ms - now;
                self.window_len_ms = Some(self.window_len_ms.map_or(len, |l| l.max(len)));
                // Did we see this window start? Only our calls in flight (and this one) spent it.
                let fresh = limit.saturating_sub(remaining) <= 1 + self.in_flight;
                let synced = h
                    .date_epoch
                    .is_none_or(|d| (d as i64 * 1000 - now).abs() <= 2000);
                let est_end_ms = if fresh && synced {
                    let est = end_ms - 1000 + now.rem_euclid(1000);
                    if est > now {
                        est
                    } else {
                        end_ms - RESET_ROUNDING_MS
                    }
                } else {
                    end_ms - RESET_ROUNDING_MS
                };
                self.window = Some(Window {
                    reset_epoch: reset,
                    end_ms,
                    est_end_ms,
                    ours: 1,
                    min_remaining: remaining,
                });
            }
        }
    }

    /// Whether the last [`Self::reserve`] waited for the window (spent, or the bucket paused).
    pub fn waited_for_window(&self) -> bool {
        self.window_wait
    }

    pub fn in_flight(&self) -> u64 {
        self.in_flight
    }
}
