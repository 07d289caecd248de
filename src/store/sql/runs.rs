//! Run leases (which replica drives a run) and claims of inbound events (each handled once).

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, SqlStore};
use crate::store::StoreResult;

/// Ended runs whose summary is not yet in the thread.
const UNSUMMARIZED: &str = "state IN ('completed', 'stopped', 'cancelled') \
    AND started_at IS NOT NULL AND summary_ts IS NULL";

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
    pub(super) async fn claim_run(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        until: i64,
    ) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE requests SET lease_owner = $2, lease_until = $4 WHERE id = $1 \
             AND (state IN ('approved', 'running') OR ({UNSUMMARIZED})) \
             AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $3)"
        );
        let done = sqlx::query(&sql)
            .bind(id)
            .bind(owner)
            .bind(now)
            .bind(until)
            .execute(&self.pool)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(super) async fn release_run(&self, id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE requests SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ids of the requests in `states` (SQL) whose lease is free or lapsed at `now`.
    async fn runs_unheld(&self, states: &str, now: i64) -> StoreResult<Vec<String>> {
        let sql = format!(
            "SELECT id FROM requests WHERE {states} \
             AND (lease_owner IS NULL OR lease_until < $1) ORDER BY created_at"
        );
        let ids = sqlx::query_scalar(&sql)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids)
    }

    pub(super) async fn runs_without_holder(&self, now: i64) -> StoreResult<Vec<String>> {
        self.runs_unheld("state IN ('approved', 'running')", now)
            .await
    }

    pub(super) async fn unsummarized_runs(&self, now: i64) -> StoreResult<Vec<String>> {
        self.runs_unheld(UNSUMMARIZED, now).await
    }

    pub(super) async fn claim_event(&self, key: &str, at: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO seen_events (event_key, seen_at) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING",
        )
        .bind(key)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    pub(super) async fn forget_events_before(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM seen_events WHERE seen_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(DB::rows_affected(&done))
    }

    pub(super) async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
