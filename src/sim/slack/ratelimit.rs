//! The sim's rate limits, enforced the way Slack does: per method, HTTP 429 with `Retry-After`
//! (seconds). A 429 is given when one is queued (`SlackSim::rate_limit_next`) or when a method
//! is called more often than its window allows (`SlackSim::limit_calls`; `apps.connections.open`,
//! a Tier 1 method, has one from the start). Every call's time is recorded, and a call that
//! comes before the last `Retry-After` has passed is refused again and recorded as a violation,
//! so a test can assert the bot waited.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// At most `max` calls in any `per`.
#[derive(Debug, Clone, Copy)]
struct Window {
    max: usize,
    per: Duration,
}

#[derive(Debug)]
pub(crate) struct Limits {
    /// method → (429s left to give, Retry-After seconds)
    queued: HashMap<String, (usize, u64)>,
    windows: HashMap<String, Window>,
    /// method → times of its calls that were let through, within its window
    recent: HashMap<String, VecDeque<Instant>>,
    /// method → the end of the last Retry-After given
    not_before: HashMap<String, Instant>,
    /// method → the time of every call, in order
    times: HashMap<String, Vec<Instant>>,
    violations: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        let mut windows = HashMap::new();
        // Tier 1: "1+ per minute", small bursts tolerated.
        windows.insert(
            "apps.connections.open".to_string(),
            Window {
                max: 5,
                per: Duration::from_secs(60),
            },
        );
        Limits {
            queued: HashMap::new(),
            windows,
            recent: HashMap::new(),
            not_before: HashMap::new(),
            times: HashMap::new(),
            violations: Vec::new(),
        }
    }
}

impl Limits {
    pub fn queue(&mut self, method: &str, n: usize, retry_after_secs: u64) {
        self.queued
            .insert(method.to_string(), (n, retry_after_secs));
    }

    pub fn limit(&mut self, method: &str, max: usize, per: Duration) {
        self.windows.insert(method.to_string(), Window { max, per });
        self.recent.remove(method);
    }

    pub fn times(&self, method: &str) -> Vec<Instant> {
        self.times.get(method).cloned().unwrap_or_default()
    }

    pub fn violations(&self) -> Vec<String> {
        self.violations.clone()
    }

    /// Records a call of `method`; `Some(seconds)` when it must be answered 429 with that
    /// `Retry-After`.
    pub fn check(&mut self, method: &str) -> Option<u64> {
        let now = Instant::now();
        self.times.entry(method.to_string()).or_default().push(now);
        let early = self
            .not_before
            .get(method)
            .map(|t| t.saturating_duration_since(now))
            .filter(|d| !d.is_zero());
        if let Some(left) = early {
            self.violations.push(format!(
                "{method} called {} ms before its Retry-After had passed",
                left.as_millis()
            ));
        }
        let secs = match self.queued.get_mut(method) {
            Some((n, secs)) if *n > 0 => {
                *n -= 1;
                Some(*secs)
            }
            _ => None,
        }
        .or_else(|| early.map(ceil_secs))
        .or_else(|| self.over_window(method, now));
        match secs {
            Some(s) => {
                let until = now + Duration::from_secs(s);
                let t = self.not_before.entry(method.to_string()).or_insert(until);
                *t = (*t).max(until);
            }
            None => {
                if self.windows.contains_key(method) {
                    self.recent
                        .entry(method.to_string())
                        .or_default()
                        .push_back(now);
                }
            }
        }
        secs
    }

    /// Retry-After when `method` is over its window: until its oldest call leaves it.
    fn over_window(&mut self, method: &str, now: Instant) -> Option<u64> {
        let w = *self.windows.get(method)?;
        let recent = self.recent.entry(method.to_string()).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= w.per)
        {
            recent.pop_front();
        }
        if recent.len() < w.max {
            return None;
        }
        let oldest = *recent.front()?;
        Some(ceil_secs(w.per.saturating_sub(now.duration_since(oldest))))
    }
}

/// Whole seconds, rounded up, at least 1 (Slack's Retry-After is an integer).
fn ceil_secs(d: Duration) -> u64 {
    (d.as_millis().div_ceil(1000) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_429_then_an_early_call_is_a_violation_refused_again() {
        let mut l = Limits::default();
        l.queue("chat.update", 1, 2);
        assert_eq!(l.check("chat.update"), Some(2));
        assert_eq!(l.check("chat.update"), Some(2));
        assert_eq!(l.violations().len(), 1);
        assert!(l.violations()[0].starts_with("chat.update called "));
        assert_eq!(l.check("chat.postMessage"), None);
        assert_eq!(l.times("chat.update").len(), 2);
    }

    #[test]
    fn a_window_refuses_the_call_past_its_size_until_the_oldest_leaves() {
        let mut l = Limits::default();
        l.limit("apps.connections.open", 2, Duration::from_secs(30));
        assert_eq!(l.check("apps.connections.open"), None);
        assert_eq!(l.check("apps.connections.open"), None);
        assert_eq!(l.check("apps.connections.open"), Some(30));
        assert!(l.violations().is_empty());
    }
}
