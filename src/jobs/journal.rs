//! Journal writes that must not be lost. When the store is unreachable the run pauses here and
//! carries on when it returns; it gives up only when the bot is shutting down (the run then
//! resumes from the journal at the next start).

use std::future::Future;
use std::time::Duration;

use crate::service::Service;
use crate::store::StoreResult;

/// Retries `op` until it succeeds. `Err(())` only if the bot began shutting down meanwhile.
pub async fn durably<T, F, Fut>(svc: &Service, what: &str, mut op: F) -> Result<T, ()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut wait = Duration::from_millis(250);
    let mut warned = false;
    loop {
        match op().await {
            Ok(v) => {
                if warned {
                    tracing::info!(what, "the store is back; the run continues");
                }
                return Ok(v);
            }
            Err(e) => {
                if !warned {
                    tracing::warn!(what, error = %e, "the store is unreachable; the run pauses until it returns");
                    warned = true;
                }
                if svc.is_stopping() {
                    return Err(());
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
        }
    }
}
