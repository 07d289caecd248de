//! SQLite backend: one file, WAL, a busy timeout, migrations in `migrations/sqlite`. The queries
//! are `sql/`'s; here is only what SQLite does its own way (see `sql::Backend`).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Pool, Sqlite};

use super::sql::{Backend, SqlStore};
use super::{Exclusive, StoreError, StoreResult};

/// The SQLite store.
pub type SqliteStore = SqlStore<Sqlite>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

#[async_trait]
impl Backend for Sqlite {
    /// `exclusive` sections: one process uses a SQLite store, so an in-process lock is enough.
    type Extra = Arc<tokio::sync::Mutex<()>>;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const FOR_UPDATE: &'static str = "";
    const LOCK_AUDIT: &'static [&'static str] = &[];
    const LOCK_SEAL: &'static [&'static str] = &[];
    const TABLE_EXISTS: &'static str =
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &Pool<Self>) -> StoreResult<()> {
        MIGRATOR.run(pool).await?;
        Ok(())
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn exclusive(
        _pool: &Pool<Self>,
        gate: &Self::Extra,
        _name: &str,
    ) -> StoreResult<Exclusive> {
        Ok(Exclusive::local(gate).await)
    }
}

impl SqlStore<Sqlite> {
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_with(url, true).await
    }

    /// `create = false` refuses a missing file instead of creating an empty store.
    pub async fn open_with(url: &str, create: bool) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("`{url}`: {e}")))?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL survives a crash of the process (kill -9); only a power loss
            // could drop the last commits. FULL would fsync every journal write.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let file = opts.get_filename().to_path_buf();
        if !create && !file.exists() {
            return Err(missing(&file, url));
        }
        if let Some(dir) = file.parent() {
            if create && !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Open(format!("cannot create folder {}: {e}", dir.display()))
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        Self::prepare(&pool, url).await?;
        Ok(Self {
            pool,
            extra: Default::default(),
        })
    }

    /// Opens an existing store for reading only (`audit verify|export`): the connection is
    /// read-only, no migration runs, nothing is recorded or sealed, so what is checked is exactly
    /// what is in the file. A store from a newer okta-reset is still refused.
    pub async fn open_read_only(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("`{url}`: {e}")))?
            .create_if_missing(false)
            .read_only(true)
            .busy_timeout(Duration::from_secs(10));
        let file = opts.get_filename().to_path_buf();
        if !file.exists() {
            return Err(missing(&file, url));
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await?;
        Self::check_schema(&pool, url).await?;
        Ok(Self {
            pool,
            extra: Default::default(),
        })
    }
}

fn missing(file: &std::path::Path, url: &str) -> StoreError {
    StoreError::Open(format!(
        "there is no store at {} (store.url = \"{url}\"); check the path. Nothing was created",
        file.display()
    ))
}
