//! One holder at a time for a named section — a limit check and the write it allows — across
//! every replica sharing the store. SQLite serves one process, so an in-process lock is enough;
//! on PostgreSQL it is a session advisory lock, keyed by the store's schema and the section's
//! name, held on one pooled connection until the guard is dropped. A replica that dies holding
//! it drops its connection, and the server lets the lock go.
//!
//! On PostgreSQL the in-process lock is taken first, too: then at most one connection per
//! replica waits on (or holds) the advisory lock. Without it, a burst of clicks would park every
//! pooled connection in `pg_advisory_lock`, and the holder could not get one for its own
//! queries (the fifty-approvals drill found this).

use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::Postgres;

use super::StoreResult;

/// Held while the section runs; dropping it lets the next holder in.
pub struct Exclusive {
    inner: Inner,
}

enum Inner {
    Local(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
    Postgres {
        conn: Option<PoolConnection<Postgres>>,
        key: (i32, i32),
        /// Released after the advisory lock, so the next holder in this process finds it free.
        local: Option<tokio::sync::OwnedMutexGuard<()>>,
    },
}

impl Exclusive {
    pub(super) async fn local(gate: &Arc<tokio::sync::Mutex<()>>) -> Self {
        Self {
            inner: Inner::Local(gate.clone().lock_owned().await),
        }
    }

    pub(super) async fn postgres(
        gate: &Arc<tokio::sync::Mutex<()>>,
        pool: &sqlx::PgPool,
        space: i32,
        name: &str,
    ) -> StoreResult<Self> {
        let local = gate.clone().lock_owned().await;
        let mut conn = pool.acquire().await?;
        let key = (space, key_of(name));
        sqlx::query("SELECT pg_advisory_lock($1, $2)")
            .bind(key.0)
            .bind(key.1)
            .execute(&mut *conn)
            .await?;
        Ok(Self {
            inner: Inner::Postgres {
                conn: Some(conn),
                key,
                local: Some(local),
            },
        })
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        let Inner::Postgres { conn, key, local } = &mut self.inner else {
            return;
        };
        let Some(mut conn) = conn.take() else { return };
        let (key, local) = (*key, local.take());
        let unlock = async move {
            let done = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(key.0)
                .bind(key.1)
                .execute(&mut *conn)
                .await;
            if let Err(e) = done {
                // Never hand a connection that may still hold the lock back to the pool: closing
                // it ends the session, and the server releases the lock.
                tracing::warn!(error = %e, "could not release an advisory lock; closing its connection");
                drop(conn.detach());
            }
            drop(local);
        };
        // Without a runtime the process is ending, and its sessions (and locks) with it.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(unlock);
        }
    }
}

/// A stable 32-bit key for a name (FNV-1a): the same in every replica and every build.
pub(super) fn key_of(name: &str) -> i32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as i32
}
