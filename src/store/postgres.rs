//! PostgreSQL backend: the engine for several replicas sharing one store, its own migrations in
//! `migrations/postgres`. The queries are `sql/`'s; here is only what PostgreSQL does its own
//! way (see `sql::Backend`): explicit locks where SQLite's single writer already serialises,
//! advisory locks for `exclusive` sections, schemas for tests and drills.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{PgPool, Pool, Postgres};

use super::sql::{Backend, SqlStore};
use super::{Exclusive, StoreError, StoreResult};

/// The PostgreSQL store.
pub type PgStore = SqlStore<Postgres>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The chain's lock: `SHARE ROW EXCLUSIVE` conflicts with itself and with writes, not with
/// reads, so replicas appending at once queue instead of forking the chain.
const LOCK_AUDIT_EVENTS: &str = "LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE";

pub struct PgExtra {
    /// The schema's share of advisory-lock keys: deployments (and tests) in other schemas of the
    /// same database never wait on each other.
    lock_space: i32,
    /// This process's turn at `exclusive` sections, taken before the advisory lock.
    gate: Arc<tokio::sync::Mutex<()>>,
}

#[async_trait]
impl Backend for Postgres {
    type Extra = PgExtra;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const FOR_UPDATE: &'static str = "FOR UPDATE";
    const LOCK_AUDIT: &'static [&'static str] = &[LOCK_AUDIT_EVENTS];
    const LOCK_SEAL: &'static [&'static str] = &[
        LOCK_AUDIT_EVENTS,
        "LOCK TABLE audit_legacy_seal IN SHARE ROW EXCLUSIVE MODE",
    ];
    /// `to_regclass` is NULL for a table not on the `search_path`.
    const TABLE_EXISTS: &'static str = "SELECT COUNT(to_regclass($1))";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &Pool<Self>) -> StoreResult<()> {
        MIGRATOR.run(pool).await?;
        Ok(())
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn exclusive(pool: &Pool<Self>, extra: &PgExtra, name: &str) -> StoreResult<Exclusive> {
        Exclusive::postgres(&extra.gate, pool, extra.lock_space, name).await
    }
}

impl SqlStore<Postgres> {
    /// `url` may carry `?options[search_path]=SCHEMA` to keep the tables in their own schema.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("`{}`: {e}", redact_url(url))))?;
        let pool = connect(opts, 8, url).await?;
        Self::prepare(&pool, url).await?;
        Self::with_pool(pool).await
    }

    /// Opens the store for reading only (`audit verify|export`): every transaction of the
    /// session is read-only (`default_transaction_read_only`), no migration runs, nothing is
    /// recorded or sealed. A store from a newer okta-reset is still refused.
    pub async fn open_read_only(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("`{}`: {e}", redact_url(url))))?
            .options([("default_transaction_read_only", "on")]);
        let pool = connect(opts, 2, url).await?;
        Self::check_schema(&pool, url).await?;
        Self::with_pool(pool).await
    }

    async fn with_pool(pool: PgPool) -> StoreResult<Self> {
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            extra: PgExtra {
                lock_space: super::exclusive::key_of(&schema),
                gate: Default::default(),
            },
        })
    }
}

async fn connect(opts: PgConnectOptions, max: u32, url: &str) -> StoreResult<PgPool> {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(opts)
        .await
        .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(url))))
}

/// The PostgreSQL server tests and drills use: `OKTA_RESET_TEST_DATABASE_URL`, or the local
/// server this project's machines run.
pub fn test_server_url() -> String {
    std::env::var("OKTA_RESET_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string())
}

/// Creates an empty schema on `server_url` and returns a store URL that keeps every table in
/// it, so concurrent tests (and replicas of one drill) share nothing else.
pub async fn scratch_schema_url(server_url: &str) -> StoreResult<String> {
    use rand::Rng;
    let name: String = format!("t_{:016x}", rand::thread_rng().gen::<u64>());
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(server_url)
        .await
        .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(server_url))))?;
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let sep = if server_url.contains('?') { '&' } else { '?' };
    Ok(format!("{server_url}{sep}options[search_path]={name}"))
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
