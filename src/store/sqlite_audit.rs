//! The SQLite side of the audit log: appending to the hash chain, reading it back in pages, and
//! the schema-version guard. The hashing itself is `crate::domain::audit_chain`, shared by every backend.

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use super::{AuditEvent, AuditQuery, AuditRecord, StoreError, StoreResult};
use crate::domain::audit_chain as chain;

const COLUMNS: &str = "id, seq, at, request_id, actor, action, detail, prev_hash, hash";

/// Refuses a store written by a newer okta-reset, before any migration touches it. Looks at our
/// own `schema_version` table and at sqlx's migration ledger (whichever is higher); `known` is the
/// newest migration this build carries.
pub(super) async fn check_schema(pool: &SqlitePool, url: &str, known: i64) -> StoreResult<()> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name IN ('schema_version', '_sqlx_migrations')",
    )
    .fetch_all(pool)
    .await?;
    let mut found = 0i64;
    if tables.iter().any(|t| t == "schema_version") {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
            .fetch_one(pool)
            .await?;
        found = found.max(v.unwrap_or(0));
    }
    if tables.iter().any(|t| t == "_sqlx_migrations") {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(pool)
            .await?;
        found = found.max(v.unwrap_or(0));
    }
    if found > known {
        return Err(StoreError::NewerSchema {
            url: url.to_string(),
            found,
            supported: known,
        });
    }
    Ok(())
}

/// Raises the recorded version to this build's after its migrations ran, so that no migration
/// has to remember to, and an older build then refuses the store.
pub(super) async fn record_schema(pool: &SqlitePool, known: i64) -> StoreResult<()> {
    sqlx::query("UPDATE schema_version SET version = ?1 WHERE version < ?1")
        .bind(known)
        .execute(pool)
        .await?;
    Ok(())
}

/// Events written before the chain existed (schema 1) are sealed into it once, in storage order,
/// as part of migration 0013 (`audit_legacy_seal`): the first open after it was applied seals
/// them — only when no event is chained yet — and records the seal in the same transaction, so
/// no later open (nor `audit verify`, which opens read-only) ever seals again. A row that lost its
/// hash afterwards is tampering, for `audit verify` to report, never something to re-seal.
pub(super) async fn seal_legacy(pool: &SqlitePool) -> StoreResult<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
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
            let rec = record(row)?;
            let seq = i as i64 + 1;
            let hash = chain::event_hash(seq, &rec.event, &prev);
            sqlx::query(
                "UPDATE audit_events SET seq = ?1, prev_hash = ?2, hash = ?3, detail = ?4 WHERE id = ?5",
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
    sqlx::query("INSERT INTO audit_legacy_seal (sealed_at, events) VALUES (?1, ?2)")
        .bind(super::now_ms())
        .bind(n)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Reads the head and inserts in one write transaction. `BEGIN IMMEDIATE` takes SQLite's write
/// lock before the read, so two appenders queue (busy timeout) instead of both reading the same
/// head and forking the chain.
pub(super) async fn append(pool: &SqlitePool, e: &AuditEvent) -> StoreResult<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    append_in(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends inside a write transaction the caller holds (begun `IMMEDIATE`): the event and the
/// change it records commit together or not at all.
pub(super) async fn append_in(tx: &mut sqlx::SqliteConnection, e: &AuditEvent) -> StoreResult<()> {
    let head: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_events WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash.unwrap_or_default()),
        None => (1, chain::GENESIS.to_string()),
    };
    let hash = chain::event_hash(seq, e, &prev);
    sqlx::query(
        "INSERT INTO audit_events (at, request_id, actor, action, detail, seq, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(e.at)
    .bind(&e.request_id)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(chain::canonical(&e.detail))
    .bind(seq)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn events(
    pool: &SqlitePool,
    request_id: Option<&str>,
) -> StoreResult<Vec<AuditEvent>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE (?1 IS NULL OR request_id = ?1) ORDER BY id"
    );
    let rows = sqlx::query(&sql).bind(request_id).fetch_all(pool).await?;
    rows.iter().map(|r| record(r).map(|r| r.event)).collect()
}

pub(super) async fn page(pool: &SqlitePool, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE id > ?1 AND (?2 IS NULL OR at >= ?2) \
         AND (?3 IS NULL OR request_id = ?3) ORDER BY id LIMIT ?4"
    );
    let rows = sqlx::query(&sql)
        .bind(q.after_id)
        .bind(q.since)
        .bind(&q.request_id)
        .bind(q.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(record).collect()
}

pub(super) async fn last(pool: &SqlitePool, action: &str) -> StoreResult<Option<AuditRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE action = ?1 AND seq IS NOT NULL \
         ORDER BY seq DESC LIMIT 1"
    );
    let row = sqlx::query(&sql).bind(action).fetch_optional(pool).await?;
    row.as_ref().map(record).transpose()
}

fn record(r: &SqliteRow) -> StoreResult<AuditRecord> {
    let detail: String = r.try_get("detail")?;
    Ok(AuditRecord {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        event: AuditEvent {
            at: r.try_get("at")?,
            request_id: r.try_get("request_id")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            // Text that is no longer JSON was edited outside the bot: kept as a string, it fails
            // its hash and `audit verify` names the event, instead of every read failing.
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
