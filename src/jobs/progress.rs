//! A run's progress message: the counts the resets move, and the task that announces the
//! approval, posts the progress message beside the first resets (Slack paces posts to about one
//! a second per channel; the run does not wait for it) and edits it while the count moves.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::service::Service;
use crate::slack::render::{self, Progress};
use crate::store::RequestRecord;

/// The progress message is edited at most this often (chat.update is Tier 3: ~50/min).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What the run has done so far, shared by its reset tasks and the progress task.
pub(super) struct Counters {
    pub(super) done: AtomicUsize,
    pub(super) reset: AtomicUsize,
    pub(super) failed: AtomicUsize,
}

pub(super) fn progress_of(c: &Counters, total: usize) -> Progress {
    Progress {
        done: c.done.load(Ordering::Relaxed),
        total,
        reset: c.reset.load(Ordering::Relaxed),
        failed: c.failed.load(Ordering::Relaxed),
    }
}

/// Announces the approval and posts the progress message (unless an earlier holder of the run
/// did), then edits it every `PROGRESS_EVERY` while the count moves, until `finished`. Returns
/// the message's ts.
pub(super) fn progress_ticker(
    svc: Arc<Service>,
    r: RequestRecord,
    resumed: bool,
    c: Arc<Counters>,
    total: usize,
    finished: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Option<String>> {
    tokio::spawn(async move {
        let ts = match &r.progress_ts {
            Some(ts) => ts.clone(),
            None => {
                if !resumed {
                    if let Some(d) = &r.decision {
                        // Every approver of a two-approver request, or the one who decided.
                        let who = svc.approved_by(r.id.as_str(), d.actor.as_str()).await;
                        svc.say_in_thread(&r, &render::approved(&who, d.decided_at))
                            .await;
                    }
                }
                let p = progress_of(&c, total);
                let ts = svc
                    .say_in_thread(&r, &render::progress(&p, svc.now()))
                    .await?;
                let _ = svc.store.set_progress_ts(r.id.as_str(), &ts).await;
                ts
            }
        };
        let mut last_done = usize::MAX;
        loop {
            // Sleep in short steps so the ticker ends promptly with the run.
            for _ in 0..(PROGRESS_EVERY.as_millis() / 100) {
                if finished.load(Ordering::SeqCst) {
                    return Some(ts);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let p = progress_of(&c, total);
            if p.done != last_done {
                last_done = p.done;
                if let Err(e) = svc
                    .slack
                    .update(r.channel_id.as_str(), &ts, &render::progress(&p, svc.now()))
                    .await
                {
                    tracing::warn!(request = %r.id, error = %e, "progress update failed; will try again");
                }
            }
        }
    })
}

/// The end of a run's progress message: the ticker stopped, then one last edit with the final
/// counts.
pub(super) struct Closing<'a> {
    pub(super) svc: &'a Arc<Service>,
    pub(super) r: &'a RequestRecord,
    pub(super) ticker: Option<tokio::task::JoinHandle<Option<String>>>,
    pub(super) counters: &'a Counters,
    pub(super) total: usize,
}

impl Closing<'_> {
    /// Once; later calls do nothing.
    pub(super) async fn close(&mut self) {
        let Some(ticker) = self.ticker.take() else {
            return;
        };
        let Ok(Some(ts)) = ticker.await else {
            return;
        };
        let p = progress_of(self.counters, self.total);
        let _ = self
            .svc
            .slack
            .update(
                self.r.channel_id.as_str(),
                &ts,
                &render::progress(&p, self.svc.now()),
            )
            .await;
    }
}
