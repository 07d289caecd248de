//! A request's frozen targets: reading them, and journalling each user's outcome.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Backend, SqlStore};
use crate::store::{codec, NewTarget, Outcome, Sessions, StoreResult, TargetRecord};

const TARGET_COLUMNS: &str = "seq, okta_id, login, email, display_name, status, provider, source, \
    classification, detail, outcome, outcome_reason, okta_request_id, outcome_at, sessions, sessions_reason";

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
    /// The request's targets matching `filter` (SQL after `request_id = $1`), by seq.
    pub(super) async fn targets_where(
        &self,
        id: &str,
        filter: &str,
    ) -> StoreResult<Vec<TargetRecord>> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM targets WHERE request_id = $1 {filter} ORDER BY seq"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter().map(Self::target_from_row).collect()
    }

    pub(super) async fn set_sessions(
        &self,
        id: &str,
        seq: i64,
        sessions: Sessions,
        reason: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE targets SET sessions = $1, sessions_reason = $2 WHERE request_id = $3 AND seq = $4",
        )
        .bind(sessions.code())
        .bind(reason)
        .bind(id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn set_outcome(
        &self,
        id: &str,
        seq: i64,
        outcome: Outcome,
        reason: Option<&str>,
        okta_request_id: Option<&str>,
        at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE targets SET outcome = $1, outcome_reason = $2, okta_request_id = $3, outcome_at = $4 \
             WHERE request_id = $5 AND seq = $6",
        )
        .bind(outcome.code())
        .bind(reason)
        .bind(okta_request_id)
        .bind(at)
        .bind(id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn mark_in_flight(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE targets SET outcome = $1, outcome_at = $2 \
             WHERE request_id = $3 AND seq = $4 AND outcome = $5",
        )
        .bind(Outcome::InFlight.code())
        .bind(at)
        .bind(id)
        .bind(seq)
        .bind(Outcome::Pending.code())
        .execute(&self.pool)
        .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(super) async fn outcome_counts(&self, id: &str) -> StoreResult<Vec<(Outcome, i64)>> {
        let rows = sqlx::query(
            "SELECT outcome, COUNT(*) AS n FROM targets WHERE request_id = $1 GROUP BY outcome ORDER BY outcome",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((codec::column(r, "outcome")?, r.try_get("n")?)))
            .collect()
    }

    pub(super) async fn resets_identity(
        &self,
        id: &str,
        identities: &[String],
    ) -> StoreResult<bool> {
        for ident in identities {
            let hits: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM targets WHERE request_id = $1 AND classification = 'reset' \
                 AND (lower(login) = $2 OR lower(email) = $2)",
            )
            .bind(id)
            .bind(ident.to_lowercase())
            .fetch_one(&self.pool)
            .await?;
            if hits > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(super) fn target_from_row(row: &DB::Row) -> StoreResult<TargetRecord> {
        Ok(TargetRecord {
            seq: row.try_get("seq")?,
            target: NewTarget {
                okta_id: row.try_get("okta_id")?,
                login: row.try_get("login")?,
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                status: row.try_get("status")?,
                provider: row.try_get("provider")?,
                source: row.try_get("source")?,
                classification: codec::column(row, "classification")?,
                detail: row.try_get("detail")?,
            },
            outcome: codec::column(row, "outcome")?,
            outcome_reason: row.try_get("outcome_reason")?,
            okta_request_id: row.try_get("okta_request_id")?,
            outcome_at: row.try_get("outcome_at")?,
            sessions: codec::column_opt(row, "sessions")?,
            sessions_reason: row.try_get("sessions_reason")?,
        })
    }
}
