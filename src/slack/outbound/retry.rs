//! Slack's rate limits, on the bot's side. Over its limit a Web API method answers HTTP 429 with
//! `Retry-After` (seconds): after one, no call of that method leaves the bot before that time has
//! passed — from any task, not only the one refused (a [`RateGate`] per method). Where Slack
//! names no time, the wait is an exponential backoff with jitter, so replicas that were refused
//! together do not come back together.
//!
//! slack-morphism 2.31.1 retries a 429 only when its rate control is given `max_retries`, and
//! then at once when `Retry-After` is missing; its raw-HTTP neighbours (the file download, the
//! upload POST, `apps.connections.open`) would not wait at all. Every call goes through here
//! instead.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;
use slack_morphism::errors::{SlackClientError, SlackRateLimitError};
use tokio::time::Instant;

/// How long a call may wait for Slack's rate limits before it gives up and reports `ratelimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patience {
    /// Background work (posts, edits, look-ups, files): up to four retries, each waiting what
    /// Slack asks up to five minutes. A caller with its own schedule (the summary) retries after.
    Background,
    /// A call spending a `trigger_id`, which Slack honours for 3 s: waits only while the retry
    /// can still land inside that.
    Trigger,
}

impl Patience {
    fn retries(self) -> u32 {
        match self {
            Patience::Background => 4,
            Patience::Trigger => 1,
        }
    }

    /// The longest total wait for one call.
    fn budget(self) -> Duration {
        match self {
            Patience::Background => Duration::from_secs(300),
            Patience::Trigger => Duration::from_millis(2000),
        }
    }
}

/// The earliest time each method may be called again, as the last 429 said.
#[derive(Debug, Default)]
pub struct RateGate {
    not_before: Mutex<HashMap<String, Instant>>,
}

impl RateGate {
    /// How long `method` must still wait (zero when it is free).
    pub fn remaining(&self, method: &str) -> Duration {
        let map = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        map.get(method)
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    /// No call of `method` before `wait` from now (a later time already set stays).
    pub fn hold(&self, method: &str, wait: Duration) {
        let until = Instant::now() + wait;
        let mut map = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        let t = map.entry(method.to_string()).or_insert(until);
        *t = (*t).max(until);
    }
}

/// The wait after the `attempt`-th refusal (0-based) that named no `Retry-After`: 1 s doubling
/// to 30 s, each drawn uniformly from its upper half.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30));
    let ms = ceiling.as_millis() as u64;
    Duration::from_millis(rand::thread_rng().gen_range(ms / 2..=ms))
}

/// `Retry-After` in seconds, as Slack sends it.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// One call's tries against the gate of its method.
pub struct Tries<'a> {
    gate: &'a RateGate,
    method: &'a str,
    patience: Patience,
    refusals: u32,
    waited: Duration,
}

impl<'a> Tries<'a> {
    pub fn new(gate: &'a RateGate, method: &'a str, patience: Patience) -> Self {
        Self {
            gate,
            method,
            patience,
            refusals: 0,
            waited: Duration::ZERO,
        }
    }

    /// Waits until the method is free. `Err(remaining)` when that is past this call's patience:
    /// the call is then not made at all.
    pub async fn ready(&mut self) -> Result<(), Duration> {
        let wait = self.gate.remaining(self.method);
        if wait.is_zero() {
            return Ok(());
        }
        if self.waited + wait > self.patience.budget() {
            return Err(wait);
        }
        tokio::time::sleep(wait).await;
        self.waited += wait;
        Ok(())
    }

    /// Records a 429; `true` when the call should be tried again (after [`Tries::ready`]).
    pub fn refused(&mut self, retry_after: Option<Duration>) -> bool {
        let wait = retry_after.unwrap_or_else(|| backoff(self.refusals));
        self.gate.hold(self.method, wait);
        self.refusals += 1;
        let again = self.refusals <= self.patience.retries()
            && self.waited + wait <= self.patience.budget();
        tracing::info!(
            method = self.method,
            wait_ms = wait.as_millis() as u64,
            retrying = again,
            "Slack rate limit (429): waiting before this method is called again"
        );
        again
    }
}

/// Runs a slack-morphism call, honouring every 429's `Retry-After` (see the module doc).
pub async fn call<T, F, Fut>(
    gate: &RateGate,
    method: &'static str,
    patience: Patience,
    mut f: F,
) -> Result<T, SlackClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SlackClientError>>,
{
    let mut tries = Tries::new(gate, method, patience);
    loop {
        if let Err(wait) = tries.ready().await {
            return Err(SlackClientError::RateLimitError(
                SlackRateLimitError::new()
                    .with_retry_after(wait)
                    .with_code("ratelimited".into()),
            ));
        }
        match f().await {
            Err(SlackClientError::RateLimitError(e)) => {
                if !tries.refused(e.retry_after) {
                    return Err(SlackClientError::RateLimitError(e));
                }
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn backoff_without_retry_after_doubles_to_30_s_with_jitter_in_the_upper_half() {
        for attempt in 0..10 {
            let ceiling = Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30));
            for _ in 0..50 {
                let d = backoff(attempt);
                assert!(d >= ceiling / 2 && d <= ceiling, "{attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut h = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(reqwest::header::RETRY_AFTER, "5".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(5)));
        h.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    fn limited(ms: Option<u64>) -> SlackClientError {
        SlackClientError::RateLimitError(
            SlackRateLimitError::new().opt_retry_after(ms.map(Duration::from_millis)),
        )
    }

    #[tokio::test]
    async fn a_429_holds_every_caller_of_the_method_until_retry_after_has_passed() {
        let gate = RateGate::default();
        let start = Instant::now();
        let calls = AtomicU32::new(0);
        let r = call(&gate, "chat.update", Patience::Background, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(limited(Some(300))),
                _ => Ok(Instant::now()),
            }
        })
        .await
        .unwrap();
        assert!(r - start >= Duration::from_millis(300));
        // Another method is free; a hold on this one delays the next caller too.
        assert_eq!(gate.remaining("chat.postMessage"), Duration::ZERO);
        gate.hold("chat.update", Duration::from_millis(200));
        let other = call(&gate, "chat.update", Patience::Background, || async {
            Ok::<_, SlackClientError>(Instant::now())
        })
        .await
        .unwrap();
        assert!(other - r >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_trigger_call_gives_up_rather_than_retry_after_its_trigger_expired() {
        let gate = RateGate::default();
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = call(&gate, "views.open", Patience::Trigger, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(limited(Some(5000)))
        })
        .await;
        assert!(matches!(r, Err(SlackClientError::RateLimitError(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "no retry past the trigger");
        // While the gate holds, the call is not even made.
        let r: Result<(), _> = call(&gate, "views.open", Patience::Trigger, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn without_retry_after_each_refusal_holds_the_method_longer_until_the_retries_run_out() {
        let gate = RateGate::default();
        let mut tries = Tries::new(&gate, "users.info", Patience::Background);
        for i in 0..4 {
            assert!(tries.refused(None), "retry {i}");
            let floor = Duration::from_secs(1 << i) / 2;
            // A little under the floor: time has passed since the hold was set.
            assert!(gate.remaining("users.info") + Duration::from_millis(50) >= floor);
        }
        assert!(!tries.refused(None), "four retries, then the error");
    }
}
