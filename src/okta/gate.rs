//! How many Okta calls may be in flight at once. Starts at `okta.concurrency`; a concurrency 429
//! (Okta's org-wide limit, `X-Rate-Limit-Limit: 0`) lowers it by a quarter, and it climbs back one
//! step after a long run of calls without one, never above the configured value.

use std::sync::Mutex;

use tokio::sync::Notify;

/// Calls without a concurrency 429 before the limit climbs back one step.
const RECOVER_AFTER: u32 = 500;

pub struct Gate {
    max: usize,
    state: Mutex<State>,
    freed: Notify,
}

struct State {
    limit: usize,
    in_use: usize,
    clean_calls: u32,
}

pub struct GatePermit<'a>(&'a Gate);

impl Drop for GatePermit<'_> {
    fn drop(&mut self) {
        self.0.lock().in_use -= 1;
        self.0.freed.notify_waiters();
    }
}

impl Gate {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            max,
            state: Mutex::new(State {
                limit: max,
                in_use: 0,
                clean_calls: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn acquire(&self) -> GatePermit<'_> {
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.lock();
                if s.in_use < s.limit {
                    s.in_use += 1;
                    return GatePermit(self);
                }
            }
            notified.await;
        }
    }

    /// Okta answered a concurrency 429: fewer calls at once from now on.
    pub fn lower(&self) -> usize {
        let mut s = self.lock();
        s.limit = (s.limit - s.limit / 4)
            .min(s.limit.saturating_sub(1))
            .max(1);
        s.clean_calls = 0;
        tracing::info!(
            concurrency = s.limit,
            "Okta's concurrency limit was hit; fewer calls at once"
        );
        s.limit
    }

    /// A call that was not refused for concurrency.
    pub fn clean_call(&self) {
        let mut s = self.lock();
        if s.limit < self.max {
            s.clean_calls += 1;
            if s.clean_calls >= RECOVER_AFTER {
                s.limit += 1;
                s.clean_calls = 0;
                drop(s);
                self.freed.notify_waiters();
            }
        }
    }

    pub fn limit(&self) -> usize {
        self.lock().limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_on_a_concurrency_429_and_climbs_back_slowly() {
        let g = Gate::new(8);
        assert_eq!(g.lower(), 6);
        assert_eq!(g.lower(), 5);
        assert_eq!(g.lower(), 4);
        for _ in 0..RECOVER_AFTER {
            g.clean_call();
        }
        assert_eq!(g.limit(), 5);
        let one = Gate::new(1);
        assert_eq!(one.lower(), 1);
    }

    #[tokio::test]
    async fn holds_calls_beyond_the_limit_until_one_ends() {
        let g = std::sync::Arc::new(Gate::new(2));
        let a = g.acquire().await;
        let _b = g.acquire().await;
        let g2 = g.clone();
        let third = tokio::spawn(async move {
            let _c = g2.acquire().await;
        });
        tokio::task::yield_now().await;
        assert!(!third.is_finished());
        drop(a);
        third.await.unwrap();
    }
}
