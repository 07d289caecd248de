//! The run: claims an approved request, resets each user on its frozen list, journals every
//! outcome, keeps a progress message current and posts the summary once.

mod canary;
mod contain;
mod journal;
mod lease;
mod notify;
mod progress;
mod recheck;
mod recover;
mod request_state;
mod runner;
mod summary;
pub mod system_log_proof;

pub use runner::{run_loop, take_over_orphans, DRAIN};
pub use summary::post_overdue_summaries;
