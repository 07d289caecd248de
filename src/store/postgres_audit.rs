//! The PostgreSQL side of the audit log; see `sqlite_audit` for the why of each step. Appends
//! take `SHARE ROW EXCLUSIVE` on `audit_events` (it conflicts with itself and with writes, not
//! with reads), so replicas appending at once queue instead of forking the chain.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use super::{AuditEvent, AuditQuery, AuditRecord, StoreError, StoreResult};
use crate::domain::audit_chain as chain;

const COLUMNS: &str = "id, seq, at, request_id, actor, action, detail, prev_hash, hash";

pub(super) async fn check_schema(pool: &PgPool, url: &str, known: i64) -> StoreResult<()> {
    let mut found = 0i64;
    for table in ["schema_version", "_sqlx_migrations"] {
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::TEXT")
            .bind(table)
            .fetch_one(pool)
            .await?;
        if exists.is_some() {
            let v: Option<i64> =
                sqlx::query_scalar(&format!("SELECT MAX(version)::BIGINT FROM {table}"))
                    .fetch_one(pool)
                    .await?;
            found = found.max(v.unwrap_or(0));
        }
    }
    if found > known {
        return Err(StoreError::NewerSchema {
            url: super::redact_url(url),
            found,
            supported: known,
        });
    }
    Ok(())
}

pub(super) async fn record_schema(pool: &PgPool, known: i64) -> StoreResult<()> {
    sqlx::query("UPDATE schema_version SET version = $1 WHERE version < $1")
        .bind(known)
        .execute(pool)
        .await?;
    Ok(())
}

/// See `sqlite_audit::seal_legacy`: once, as part of migration 0013, never again.
pub(super) async fn seal_legacy(pool: &PgPool) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    // Replicas starting together: one seals, the others find its row.
    sqlx::query("LOCK TABLE audit_legacy_seal IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
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
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_events ORDER BY id"))
            .fetch_all(&mut *tx)
            .await?;
        for (i, row) in rows.iter().enumerate() {
            let rec = record(row)?;
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
        .bind(super::now_ms())
        .bind(n)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn append(pool: &PgPool, e: &AuditEvent) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    append_in(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends inside a transaction the caller holds: the event and the change it records commit
/// together or not at all. Takes the chain's lock (see the module comment) first.
pub(super) async fn append_in(tx: &mut sqlx::PgConnection, e: &AuditEvent) -> StoreResult<()> {
    sqlx::query("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
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
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub(super) async fn events(
    pool: &PgPool,
    request_id: Option<&str>,
) -> StoreResult<Vec<AuditEvent>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE ($1::TEXT IS NULL OR request_id = $1) ORDER BY id"
    );
    let rows = sqlx::query(&sql).bind(request_id).fetch_all(pool).await?;
    rows.iter().map(|r| record(r).map(|r| r.event)).collect()
}

pub(super) async fn page(pool: &PgPool, q: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE id > $1 AND ($2::BIGINT IS NULL OR at >= $2) \
         AND ($3::TEXT IS NULL OR request_id = $3) ORDER BY id LIMIT $4"
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

pub(super) async fn last(pool: &PgPool, action: &str) -> StoreResult<Option<AuditRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events WHERE action = $1 AND seq IS NOT NULL \
         ORDER BY seq DESC LIMIT 1"
    );
    let row = sqlx::query(&sql).bind(action).fetch_optional(pool).await?;
    row.as_ref().map(record).transpose()
}

fn record(r: &PgRow) -> StoreResult<AuditRecord> {
    let detail: String = r.try_get("detail")?;
    Ok(AuditRecord {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        event: AuditEvent {
            at: r.try_get("at")?,
            request_id: r.try_get("request_id")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            // See `sqlite_audit::record`: text that is no longer JSON fails its hash instead.
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}
