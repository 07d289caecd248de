//! `policy.notify_users`: the journal of Slack DMs to reset users. See `jobs::notify`.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Backend, SqlStore};
use crate::store::{codec, NoticeOutcome, NoticeRecord, StoreResult};

const COLUMNS: &str = "request_id, seq, state, reason, slack_user, dm_channel, dm_ts, reported_at";

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
    fn notice_from_row(r: &DB::Row) -> StoreResult<NoticeRecord> {
        Ok(NoticeRecord {
            request_id: codec::id(r, "request_id")?,
            seq: r.try_get("seq")?,
            state: codec::column(r, "state")?,
            reason: r.try_get("reason")?,
            slack_user: r.try_get("slack_user")?,
            dm_channel: r.try_get("dm_channel")?,
            dm_ts: r.try_get("dm_ts")?,
            reported_at: r.try_get("reported_at")?,
        })
    }

    pub(super) async fn claim_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        Ok(DB::rows_affected(
            &sqlx::query(
                "INSERT INTO notices (request_id, seq, state, at) VALUES ($1, $2, 'sending', $3) \
             ON CONFLICT (request_id, seq) DO NOTHING",
            )
            .bind(id)
            .bind(seq)
            .bind(at)
            .execute(&self.pool)
            .await?,
        ) == 1)
    }

    pub(super) async fn settle_notice(
        &self,
        id: &str,
        seq: i64,
        o: &NoticeOutcome<'_>,
        at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE notices SET state = $1, reason = $2, slack_user = $3, dm_channel = $4, \
             dm_ts = $5, at = $6 WHERE request_id = $7 AND seq = $8",
        )
        .bind(o.state.code())
        .bind(o.reason)
        .bind(o.slack_user)
        .bind(o.dm_channel)
        .bind(o.dm_ts)
        .bind(at)
        .bind(id)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn report_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        Ok(DB::rows_affected(
            &sqlx::query(
                "UPDATE notices SET reported_at = $1 \
             WHERE request_id = $2 AND seq = $3 AND reported_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .bind(seq)
            .execute(&self.pool)
            .await?,
        ) == 1)
    }

    pub(super) async fn notices(&self, id: &str) -> StoreResult<Vec<NoticeRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notices WHERE request_id = $1 ORDER BY seq"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::notice_from_row).collect()
    }
}
