//! PostgreSQL: the sign-offs beyond the decision row (the first of two approvals, a Continue
//! after a canary), and who cancelled a request. See `Store::add_approval`, `Store::cancel`.

use sqlx::{PgPool, Row};

use super::{ApprovalAdded, ApprovalEvent, AuditEvent, SignOff, State, StoreResult};

/// See `Store::cancel`.
pub(super) async fn cancel(
    pool: &PgPool,
    id: &str,
    from: State,
    by: &str,
    at: i64,
    event: &AuditEvent,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(
        "UPDATE requests SET state = 'cancelled', finished_at = COALESCE(finished_at, $3), \
         cancelled_by = $2, cancelled_at = $3 WHERE id = $1 AND state = $4",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .bind(from.code())
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !changed {
        return Ok(false);
    }
    if from == State::PendingApproval {
        sqlx::query(
            "INSERT INTO decisions (request_id, decision, actor, decided_at) \
             VALUES ($1, 'cancelled', $2, $3)",
        )
        .bind(id)
        .bind(by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    super::postgres_audit::append_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn set_continue_ts(pool: &PgPool, id: &str, ts: &str) -> StoreResult<()> {
    sqlx::query("UPDATE requests SET continue_ts = $1 WHERE id = $2")
        .bind(ts)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn add_approval(
    pool: &PgPool,
    id: &str,
    approver: &str,
    at: i64,
    event: &ApprovalEvent<'_>,
) -> StoreResult<ApprovalAdded> {
    // The request's row is locked first: a decision (an UPDATE of that row) waits for this
    // transaction, so it cannot land between the state check and the count.
    let mut tx = pool.begin().await?;
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM requests WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    if state.as_deref() != Some(State::PendingApproval.code()) {
        return Ok(ApprovalAdded::NotPending);
    }
    let added = sqlx::query(
        "INSERT INTO sign_offs (request_id, kind, actor, at) VALUES ($1, 'approve', $2, $3) \
         ON CONFLICT (request_id, kind, actor) DO NOTHING",
    )
    .bind(id)
    .bind(approver)
    .bind(at)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !added {
        return Ok(ApprovalAdded::AlreadyApproved);
    }
    let approvers: Vec<String> = sqlx::query_scalar(
        "SELECT actor FROM sign_offs WHERE request_id = $1 AND kind = 'approve' \
         ORDER BY at, actor",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    super::postgres_audit::append_in(&mut tx, &event(approvers.len())).await?;
    tx.commit().await?;
    Ok(ApprovalAdded::Added(approvers))
}

pub(super) async fn continue_run(
    pool: &PgPool,
    id: &str,
    actor: &str,
    at: i64,
    event: &AuditEvent,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let changed =
        sqlx::query("UPDATE requests SET state = 'approved' WHERE id = $1 AND state = 'paused'")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    if !changed {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO sign_offs (request_id, kind, actor, at) VALUES ($1, 'continue', $2, $3) \
         ON CONFLICT (request_id, kind, actor) DO NOTHING",
    )
    .bind(id)
    .bind(actor)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    super::postgres_audit::append_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn sign_offs(pool: &PgPool, id: &str) -> StoreResult<Vec<SignOff>> {
    let rows = sqlx::query(
        "SELECT kind, actor, at FROM sign_offs WHERE request_id = $1 ORDER BY at, kind, actor",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SignOff {
                kind: super::codec::column(row, "kind")?,
                actor: row.try_get("actor")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}
