//! The run's moves of its request through the state machine, as decisions make theirs: the
//! machine (`domain::request::transition`) says where `event` leads from `from`, and the store
//! applies it only if the request is still in `from`. A move the machine refuses is not written
//! and counts as not made, like one another replica or a cancel made first.

use crate::domain::request::{transition, Event, State};
use crate::service::Service;
use crate::store::{RequestRecord, StoreResult};

/// Moves `r` from `from` by `event` at `at`. `Ok(true)` if this call made the move.
pub(super) async fn advance(
    svc: &Service,
    r: &RequestRecord,
    from: State,
    event: Event,
    at: i64,
) -> StoreResult<bool> {
    match transition(from, event, at, r.expires_at) {
        Ok(to) => {
            svc.store
                .transition(r.id.as_str(), from, to, None, at)
                .await
        }
        Err(refusal) => {
            tracing::error!(request = %r.id, from = from.code(), ?event, %refusal, "the state machine refuses this move of the run");
            Ok(false)
        }
    }
}
