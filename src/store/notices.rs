//! `policy.notify_users`: the journal of Slack DMs to reset users (`notices`, records in
//! `domain::records`), and the SQL both backends share (sqlx binds `$N` on SQLite too). See
//! `jobs::notify`.

/// Implements the notice store methods for one backend's pool type.
macro_rules! notice_sql {
    ($pool:ty, $row:ty) => {
        use sqlx::Row;

        use crate::store::{codec, NoticeOutcome, NoticeRecord, StoreResult};

        const COLUMNS: &str =
            "request_id, seq, state, reason, slack_user, dm_channel, dm_ts, reported_at";

        fn record(r: &$row) -> StoreResult<NoticeRecord> {
            Ok(NoticeRecord {
                request_id: r.try_get("request_id")?,
                seq: r.try_get("seq")?,
                state: codec::column(r, "state")?,
                reason: r.try_get("reason")?,
                slack_user: r.try_get("slack_user")?,
                dm_channel: r.try_get("dm_channel")?,
                dm_ts: r.try_get("dm_ts")?,
                reported_at: r.try_get("reported_at")?,
            })
        }

        pub(in crate::store) async fn claim(
            pool: &$pool,
            id: &str,
            seq: i64,
            at: i64,
        ) -> StoreResult<bool> {
            Ok(sqlx::query(
                "INSERT INTO notices (request_id, seq, state, at) VALUES ($1, $2, 'sending', $3) \
                 ON CONFLICT (request_id, seq) DO NOTHING",
            )
            .bind(id)
            .bind(seq)
            .bind(at)
            .execute(pool)
            .await?
            .rows_affected()
                == 1)
        }

        pub(in crate::store) async fn settle(
            pool: &$pool,
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
            .execute(pool)
            .await?;
            Ok(())
        }

        pub(in crate::store) async fn report(
            pool: &$pool,
            id: &str,
            seq: i64,
            at: i64,
        ) -> StoreResult<bool> {
            Ok(sqlx::query(
                "UPDATE notices SET reported_at = $1 \
                 WHERE request_id = $2 AND seq = $3 AND reported_at IS NULL",
            )
            .bind(at)
            .bind(id)
            .bind(seq)
            .execute(pool)
            .await?
            .rows_affected()
                == 1)
        }

        pub(in crate::store) async fn of_request(
            pool: &$pool,
            id: &str,
        ) -> StoreResult<Vec<NoticeRecord>> {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM notices WHERE request_id = $1 ORDER BY seq"
            ))
            .bind(id)
            .fetch_all(pool)
            .await?;
            rows.iter().map(record).collect()
        }
    };
}

pub(super) mod sqlite {
    notice_sql!(sqlx::SqlitePool, sqlx::sqlite::SqliteRow);
}

pub(super) mod postgres {
    notice_sql!(sqlx::PgPool, sqlx::postgres::PgRow);
}
