//! Holding a run: the lease is renewed every third of its length; if a renewal is refused (the
//! lease lapsed and another replica took the run), the run stops taking users at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::domain::request::State;
use crate::service::Service;

pub struct Lease {
    svc: Arc<Service>,
    id: String,
    lost: Arc<AtomicBool>,
    heartbeat: JoinHandle<()>,
}

/// Starts renewing the lease `svc.replica` already claimed on `id`.
pub fn hold(svc: Arc<Service>, id: String) -> Lease {
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let (svc, id, lost) = (svc.clone(), id.clone(), lost.clone());
        tokio::spawn(async move {
            let every = Duration::from_millis((svc.lease_ms() / 3).max(200) as u64);
            loop {
                tokio::time::sleep(every).await;
                let now = svc.now();
                match svc
                    .store
                    .claim_run(&id, &svc.replica, now, now + svc.lease_ms())
                    .await
                {
                    Ok(renewed) => {
                        let state = svc
                            .store
                            .get_request(&id)
                            .await
                            .ok()
                            .flatten()
                            .map(|r| r.state);
                        // A cancel made on another replica reaches this run only through the
                        // store: stop taking users, as a cancel made here would.
                        if state == Some(State::Cancelled) {
                            svc.cancel_flag(&id).store(true, Ordering::SeqCst);
                        }
                        if !renewed {
                            // Refused: either the run ended (cancelled, finished) — nothing to
                            // hold — or the lease lapsed and another replica took the run.
                            if state.is_some_and(|s| !s.is_final()) {
                                lost.store(true, Ordering::SeqCst);
                            }
                            return;
                        }
                    }
                    // The store is away: keep trying; the journal pauses the run meanwhile.
                    Err(e) => {
                        tracing::warn!(request = %id, error = %e, "could not renew the run lease")
                    }
                }
            }
        })
    };
    Lease {
        svc,
        id,
        lost,
        heartbeat,
    }
}

/// A run dropped without `release` (aborted when the shutdown's drain ran out) stops renewing:
/// otherwise its heartbeat would hold the run for ever, and no replica (not even this process
/// restarted in-process) could take it over once the lease lapses.
impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl Lease {
    pub fn lost_flag(&self) -> Arc<AtomicBool> {
        self.lost.clone()
    }

    /// True only when another replica holds the run now (not when the run simply ended).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    pub async fn release(self) {
        self.heartbeat.abort();
        if let Err(e) = self
            .svc
            .store
            .release_run(&self.id, &self.svc.replica)
            .await
        {
            tracing::warn!(request = %self.id, error = %e, "could not release the run lease");
        }
    }
}
