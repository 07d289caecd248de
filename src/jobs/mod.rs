//! The run: claims an approved request, resets each user on its frozen list, journals every
//! outcome, keeps a progress message current and posts the summary once.

mod runner;
mod summary;

pub use runner::{resume_all, run_loop, DRAIN};
