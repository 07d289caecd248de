//! The sign-offs beyond the decision row (the first of two approvals, a Continue after a
//! canary), and who cancelled a request. See `Store::add_approval`, `Store::cancel`.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Backend, SqlStore};
use crate::domain::request::State;
use crate::store::{codec, ApprovalAdded, ApprovalEvent, AuditEvent, SignOff, StoreResult};

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
    /// See `Store::cancel`.
    pub(super) async fn cancel(
        &self,
        id: &str,
        from: State,
        by: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let done = sqlx::query(
            "UPDATE requests SET state = 'cancelled', finished_at = COALESCE(finished_at, $3), \
             cancelled_by = $2, cancelled_at = $3 WHERE id = $1 AND state = $4",
        )
        .bind(id)
        .bind(by)
        .bind(at)
        .bind(from.code())
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) != 1 {
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
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn add_approval(
        &self,
        id: &str,
        approver: &str,
        at: i64,
        event: &ApprovalEvent<'_>,
    ) -> StoreResult<ApprovalAdded> {
        // The request's row is read under the write transaction's lock (SQLite) or its row lock
        // (`FOR UPDATE`, PostgreSQL): a decision, which writes that row, waits for this
        // transaction, so it cannot land between the state check and the count.
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let state: Option<String> = sqlx::query_scalar(&format!(
            "SELECT state FROM requests WHERE id = $1 {}",
            DB::FOR_UPDATE
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if state.as_deref() != Some(State::PendingApproval.code()) {
            return Ok(ApprovalAdded::NotPending);
        }
        let done = sqlx::query(
            "INSERT INTO sign_offs (request_id, kind, actor, at) VALUES ($1, 'approve', $2, $3) \
             ON CONFLICT (request_id, kind, actor) DO NOTHING",
        )
        .bind(id)
        .bind(approver)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) != 1 {
            return Ok(ApprovalAdded::AlreadyApproved);
        }
        let approvers: Vec<String> = sqlx::query_scalar(
            "SELECT actor FROM sign_offs WHERE request_id = $1 AND kind = 'approve' \
             ORDER BY at, actor",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        Self::append_in(&mut tx, &event(approvers.len())).await?;
        tx.commit().await?;
        Ok(ApprovalAdded::Added(approvers))
    }

    pub(super) async fn continue_run(
        &self,
        id: &str,
        actor: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let done = sqlx::query(
            "UPDATE requests SET state = 'approved' WHERE id = $1 AND state = 'paused'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if DB::rows_affected(&done) != 1 {
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
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn sign_offs(&self, id: &str) -> StoreResult<Vec<SignOff>> {
        let rows = sqlx::query(
            "SELECT kind, actor, at FROM sign_offs WHERE request_id = $1 ORDER BY at, kind, actor",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::sign_off_from_row).collect()
    }

    fn sign_off_from_row(row: &DB::Row) -> StoreResult<SignOff> {
        Ok(SignOff {
            kind: codec::column(row, "kind")?,
            actor: codec::id(row, "actor")?,
            at: row.try_get("at")?,
        })
    }
}
