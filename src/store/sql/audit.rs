//! The audit log: appending to the hash chain, reading it back in pages, and the schema-version
//! guard run when a store opens. The hashing itself is `crate::domain::audit_chain`.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::{Backend, SqlStore};
use crate::domain::audit_chain as chain;
use crate::store::{AuditEvent, AuditQuery, AuditRecord, StoreError, StoreResult};

const COLUMNS: &str = "id, seq, at, request_id, actor, action, detail, prev_hash, hash";

impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> bool: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> String: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> &'q str: Type<DB> + Encode<'q, DB>,
    for<'q> Option<i64>: Type<DB> + Encode<'q, DB>,
    for<'q> Option<String>: Type<DB> + Encode<'q, DB>,
    for<'q> Option<&'q str>: Type<DB> + Encode<'q, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    /// What every writable open does once connected: refuse a newer store, migrate, record the
    /// version, seal the legacy events.
    pub(in crate::store) async fn prepare(pool: &Pool<DB>, url: &str) -> StoreResult<()> {
        // Before migrating: a store from a newer okta-reset is refused untouched.
        let known = Self::known_schema_version();
        Self::check_schema(pool, url).await?;
        DB::migrate(pool).await?;
        Self::record_schema(pool, known).await?;
        Self::seal_legacy(pool).await
    }

    /// Refuses a store written by a newer okta-reset, before any migration touches it. Looks at
    /// our own `schema_version` table and at sqlx's migration ledger (whichever is higher)
    /// against the newest migration this build carries.
    pub(in crate::store) async fn check_schema(pool: &Pool<DB>, url: &str) -> StoreResult<()> {
        let known = Self::known_schema_version();
        let mut found = 0i64;
        for table in ["schema_version", "_sqlx_migrations"] {
            let exists: i64 = sqlx::query_scalar(DB::TABLE_EXISTS)
                .bind(table)
                .fetch_one(pool)
                .await?;
            if exists > 0 {
                let v: Option<i64> = sqlx::query_scalar(&format!(
                    "SELECT CAST(MAX(version) AS BIGINT) FROM {table}"
                ))
                .fetch_one(pool)
                .await?;
                found = found.max(v.unwrap_or(0));
            }
        }
        if found > known {
            return Err(StoreError::NewerSchema {
                url: crate::store::redact_url(url),
                found,
                supported: known,
            });
        }
        Ok(())
    }

    /// Raises the recorded version to this build's after its migrations ran, so that no
    /// migration has to remember to, and an older build then refuses the store.
    async fn record_schema(pool: &Pool<DB>, known: i64) -> StoreResult<()> {
        sqlx::query("UPDATE schema_version SET version = $1 WHERE version < $1")
            .bind(known)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Events written before the chain existed (schema 1) are sealed into it once, in storage
    /// order, as part of migration 0013 (`audit_legacy_seal`): the first open after it was
    /// applied seals them — only when no event is chained yet — and records the seal in the same
    /// transaction, so no later open (nor `audit verify`, which opens read-only) ever seals again.
    /// A row that lost its hash afterwards is tampering, for `audit verify` to report, never
    /// something to re-seal. Replicas starting together: one seals, the others find its row.
    async fn seal_legacy(pool: &Pool<DB>) -> StoreResult<()> {
        let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
        for lock in DB::LOCK_SEAL {
            sqlx::query(lock).execute(&mut *tx).await?;
        }
        let sealed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_legacy_seal")
            .fetch_one(&mut *tx)
            .await?;
        if sealed > 0 {
            return Ok(());
        }
        let chained: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE seq IS NOT NULL")
                .fetch_one(&mut *tx)
                .await?;
        let mut prev = chain::GENESIS.to_string();
        let mut n = 0i64;
        if chained == 0 {
            let sql = format!("SELECT {COLUMNS} FROM audit_events ORDER BY id");
            let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
            for (i, row) in rows.iter().enumerate() {
                let rec = Self::audit_from_row(row)?;
                let seq = i as i64 + 1;
                let hash = chain::event_hash(seq, &rec.event, &prev);
                sqlx::query(
                    "UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3, detail = $4 WHERE id = $5",
                )
                .bind(seq)
                .bind(&prev)
                .bind(&hash)
                .bind(chain::canonical(&rec.event.detail))
                .bind(rec.id)
                .execute(&mut *tx)
                .await?;
                prev = hash;
                n = seq;
            }
        }
        sqlx::query("INSERT INTO audit_legacy_seal (sealed_at, events) VALUES ($1, $2)")
            .bind(crate::store::now_ms())
            .bind(n)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads the head and inserts in one write transaction (`Backend::BEGIN_WRITE`, then
    /// `LOCK_AUDIT`), so two appenders queue instead of both reading the same head and forking
    /// the chain.
    pub(super) async fn append_audit(&self, e: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        Self::append_in(&mut tx, e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends inside a write transaction the caller holds (begun `BEGIN_WRITE`): the event and
    /// the change it records commit together or not at all. Takes the chain's lock first.
    pub(super) async fn append_in(conn: &mut DB::Connection, e: &AuditEvent) -> StoreResult<()> {
        for lock in DB::LOCK_AUDIT {
            sqlx::query(lock).execute(&mut *conn).await?;
        }
        let head: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *conn)
        .await?;
        let (seq, prev) = match head {
            Some((seq, hash)) => (seq + 1, hash.unwrap_or_default()),
            None => (1, chain::GENESIS.to_string()),
        };
        let hash = chain::event_hash(seq, e, &prev);
        sqlx::query(
            "INSERT INTO audit_events (at, request_id, actor, action, detail, seq, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.at)
        .bind(&e.request_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(chain::canonical(&e.detail))
        .bind(seq)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(super) async fn audit_events(
        &self,
        request_id: Option<&str>,
    ) -> StoreResult<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events \
             WHERE (CAST($1 AS TEXT) IS NULL OR request_id = $1) ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(request_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Self::audit_from_row(r).map(|r| r.event))
            .collect()
    }

    pub(super) async fn audit_page(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE id > $1 \
             AND (CAST($2 AS BIGINT) IS NULL OR at >= $2) \
             AND (CAST($3 AS TEXT) IS NULL OR request_id = $3) ORDER BY id LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(q.after_id)
            .bind(q.since)
            .bind(&q.request_id)
            .bind(q.limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::audit_from_row).collect()
    }

    pub(super) async fn last_audit(&self, action: &str) -> StoreResult<Option<AuditRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_events WHERE action = $1 AND seq IS NOT NULL \
             ORDER BY seq DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(action)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::audit_from_row).transpose()
    }

    fn audit_from_row(r: &DB::Row) -> StoreResult<AuditRecord> {
        let detail: String = r.try_get("detail")?;
        Ok(AuditRecord {
            id: r.try_get("id")?,
            seq: r.try_get("seq")?,
            event: AuditEvent {
                at: r.try_get("at")?,
                request_id: r.try_get("request_id")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                // Text that is no longer JSON was edited outside the bot: kept as a string, it
                // fails its hash and `audit verify` names the event, instead of every read failing.
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
            },
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    }
}
