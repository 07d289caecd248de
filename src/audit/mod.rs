//! The audit trail: every step of every request as an event in a hash chain (`chain`), checked by
//! `okta-reset audit verify` and exported for SIEMs by `okta-reset audit export` (`export`).
//! The commands themselves (`cli`) need only the store: no Slack or Okta secrets.

pub mod chain;
pub mod cli;
pub mod export;

use std::collections::VecDeque;

use crate::store::{AuditQuery, AuditRecord, Store, StoreError};

pub use chain::{Break, Problem};
pub use export::{ExportFilter, FlatEvent, Format};

/// Events read per page when walking the whole log (memory stays flat however long it is).
pub const PAGE: i64 = 1000;

/// The whole chain checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intact {
    pub events: u64,
    pub head_seq: i64,
    pub head_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact(Intact),
    /// The first event where the chain does not hold, and how many were fine before it.
    Broken {
        at: Break,
        intact_before: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("the audit log is empty, so there is nothing to verify. okta-reset records its policy every time it starts, so the log of a store it has run on is never empty: if this store was in use, its events were deleted")]
    Empty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Walks the whole log in storage order and stops at the first event that does not hold.
pub async fn verify(store: &dyn Store) -> Result<Verdict, VerifyError> {
    let mut walker = chain::Walker::default();
    let mut ahead: VecDeque<AuditRecord> = VecDeque::new();
    let mut after_id = 0;
    let mut exhausted = false;
    loop {
        // Keep one record of look-ahead: it tells a moved event from a deleted one.
        while ahead.len() < 2 && !exhausted {
            let page = store
                .audit_page(&AuditQuery {
                    after_id,
                    since: None,
                    request_id: None,
                    limit: PAGE,
                })
                .await?;
            exhausted = (page.len() as i64) < PAGE;
            if let Some(last) = page.last() {
                after_id = last.id;
            }
            ahead.extend(page);
        }
        let Some(r) = ahead.pop_front() else { break };
        if let Err(at) = walker.check(&r, ahead.front()) {
            return Ok(Verdict::Broken {
                at,
                intact_before: walker.checked,
            });
        }
    }
    match walker.head() {
        None => Err(VerifyError::Empty),
        Some((seq, hash)) => Ok(Verdict::Intact(Intact {
            events: walker.checked,
            head_seq: seq,
            head_hash: hash.to_string(),
        })),
    }
}

#[cfg(test)]
mod export_tests;
#[cfg(test)]
mod tests;
