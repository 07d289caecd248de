//! Requests: creating one with its target snapshot (directly or from staged targets), reading
//! them back, the per-person lookups, the thread's message stamps and state transitions.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Backend, SqlStore};
use crate::domain::request::State;
use crate::store::{
    codec, AuditEvent, Decision, DecisionKind, NewRequest, NewTarget, Outcome, RequestRecord,
    StoreResult,
};

const REQUEST_COLUMNS: &str =
    "r.id, r.team_id, r.channel_id, r.requester, r.command_text, r.reason, \
    r.dry_run, r.revoke_sessions, r.contain, r.state, r.digest, r.resolved_count, r.reset_count, r.root_ts, \
    r.progress_ts, r.summary_ts, r.created_at, r.expires_at, r.started_at, r.finished_at, \
    r.stop_reason, r.cancelled_by, r.cancelled_at, r.continue_ts, d.decision, d.actor, d.decided_at";

const FROM_REQUESTS: &str = "FROM requests r LEFT JOIN decisions d ON d.request_id = r.id";

const INSERT_REQUEST: &str =
    "INSERT INTO requests (id, team_id, channel_id, requester, command_text, reason, dry_run, \
     revoke_sessions, state, digest, resolved_count, reset_count, created_at, expires_at, contain) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

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
    /// The request's own row, inside the transaction that also writes its targets.
    async fn insert_request(conn: &mut DB::Connection, r: &NewRequest) -> StoreResult<()> {
        sqlx::query(INSERT_REQUEST)
            .bind(r.id.as_str())
            .bind(r.team_id.as_str())
            .bind(r.channel_id.as_str())
            .bind(r.requester.as_str())
            .bind(&r.command_text)
            .bind(&r.reason)
            .bind(r.dry_run)
            .bind(r.revoke_sessions)
            .bind(r.state.code())
            .bind(&r.digest)
            .bind(r.resolved_count)
            .bind(r.reset_count)
            .bind(r.created_at)
            .bind(r.expires_at)
            .bind(r.contain)
            .execute(conn)
            .await?;
        Ok(())
    }

    pub(super) async fn create_request(
        &self,
        r: &NewRequest,
        targets: &[NewTarget],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_request(&mut tx, r).await?;
        for (seq, t) in targets.iter().enumerate() {
            let outcome = t.initial_outcome();
            sqlx::query(
                "INSERT INTO targets (request_id, seq, okta_id, login, email, display_name, status, \
                 provider, source, classification, detail, outcome) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(r.id.as_str())
            .bind(seq as i64)
            .bind(&t.okta_id)
            .bind(&t.login)
            .bind(&t.email)
            .bind(&t.display_name)
            .bind(&t.status)
            .bind(&t.provider)
            .bind(&t.source)
            .bind(t.classification.code())
            .bind(&t.detail)
            .bind(outcome.code())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn stage_targets(
        &self,
        request_id: &str,
        first_seq: i64,
        targets: &[NewTarget],
        at: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (i, t) in targets.iter().enumerate() {
            sqlx::query(
                "INSERT INTO staged_targets (request_id, seq, okta_id, login, email, display_name, \
                 status, provider, source, classification, detail, staged_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(request_id)
            .bind(first_seq + i as i64)
            .bind(&t.okta_id)
            .bind(&t.login)
            .bind(&t.email)
            .bind(&t.display_name)
            .bind(&t.status)
            .bind(&t.provider)
            .bind(&t.source)
            .bind(t.classification.code())
            .bind(&t.detail)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn create_request_from_staged(&self, r: &NewRequest) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        Self::insert_request(&mut tx, r).await?;
        sqlx::query(
            "INSERT INTO targets (request_id, seq, okta_id, login, email, display_name, status, \
             provider, source, classification, detail, outcome) \
             SELECT request_id, seq, okta_id, login, email, display_name, status, provider, source, \
             classification, detail, CASE WHEN classification = 'reset' THEN $2 ELSE $3 END \
             FROM staged_targets WHERE request_id = $1 ORDER BY seq",
        )
        .bind(r.id.as_str())
        .bind(Outcome::Pending.code())
        .bind(Outcome::Skipped.code())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM staged_targets WHERE request_id = $1")
            .bind(r.id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn discard_staged_before(&self, before: i64) -> StoreResult<u64> {
        // Rows staged before the column existed hold 0 and are left alone: a replica still on the
        // old version may be writing them during a rolling upgrade.
        let done = sqlx::query("DELETE FROM staged_targets WHERE staged_at > 0 AND staged_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(DB::rows_affected(&done))
    }

    pub(super) async fn discard_staged(&self, request_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM staged_targets WHERE request_id = $1")
            .bind(request_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn get_request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
        let sql = format!("SELECT {REQUEST_COLUMNS} {FROM_REQUESTS} WHERE r.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::request_from_row).transpose()
    }

    pub(super) async fn requests_in_states(
        &self,
        states: &[State],
    ) -> StoreResult<Vec<RequestRecord>> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=states.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} {FROM_REQUESTS} WHERE r.state IN ({marks}) ORDER BY r.created_at"
        );
        let mut q = sqlx::query(&sql);
        for s in states {
            q = q.bind(s.code());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(Self::request_from_row).collect()
    }

    pub(super) async fn requests_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} {FROM_REQUESTS} \
             WHERE r.requester = $1 AND r.created_at > $2 ORDER BY r.created_at, r.id"
        );
        let rows = sqlx::query(&sql)
            .bind(requester)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(Self::request_from_row).collect()
    }

    pub(super) async fn record_lookup(
        &self,
        id: &str,
        requester: &str,
        at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO okta_lookups (request_id, requester, at) VALUES ($1, $2, $3) \
             ON CONFLICT (request_id) DO NOTHING",
        )
        .bind(id)
        .bind(requester)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn lookups_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query_as(
            "SELECT request_id, at FROM okta_lookups WHERE requester = $1 AND at > $2 \
             ORDER BY at, request_id",
        )
        .bind(requester)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Sets one text column of a request (a message's ts, the stop reason).
    pub(super) async fn set_request_text(
        &self,
        id: &str,
        column: &'static str,
        value: &str,
    ) -> StoreResult<()> {
        sqlx::query(&format!("UPDATE requests SET {column} = $1 WHERE id = $2"))
            .bind(value)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn claim_summary(&self, id: &str, ts: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE requests SET summary_ts = $1 WHERE id = $2 AND summary_ts IS NULL")
                .bind(ts)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    /// `transition`, and with `event` `transition_audited`: the event is appended in the same
    /// transaction, only if the change was made.
    pub(super) async fn transition_with(
        &self,
        id: &str,
        from: State,
        to: State,
        decision: Option<&Decision>,
        at: i64,
        event: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        // A write transaction: the audit append reads the chain's head.
        let mut tx = self.pool.begin_with(DB::BEGIN_WRITE).await?;
        let stamp = match to {
            State::Running => "started_at = COALESCE(started_at, $3),",
            s if s.is_final() => "finished_at = COALESCE(finished_at, $3),",
            _ => "",
        };
        let sql = format!("UPDATE requests SET {stamp} state = $1 WHERE id = $2 AND state = $4");
        let done = sqlx::query(&sql)
            .bind(to.code())
            .bind(id)
            .bind(at)
            .bind(from.code())
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&done) != 1 {
            return Ok(false);
        }
        if let Some(d) = decision {
            sqlx::query(
                "INSERT INTO decisions (request_id, decision, actor, decided_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(d.decision.code())
            .bind(d.actor.as_str())
            .bind(d.decided_at)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(event) = event {
            Self::append_in(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(super) fn request_from_row(row: &DB::Row) -> StoreResult<RequestRecord> {
        let decision: Option<DecisionKind> = codec::column_opt(row, "decision")?;
        Ok(RequestRecord {
            id: codec::id(row, "id")?,
            team_id: codec::id(row, "team_id")?,
            channel_id: codec::id(row, "channel_id")?,
            requester: codec::id(row, "requester")?,
            command_text: row.try_get("command_text")?,
            reason: row.try_get("reason")?,
            dry_run: row.try_get("dry_run")?,
            revoke_sessions: row.try_get("revoke_sessions")?,
            contain: row.try_get("contain")?,
            state: codec::column(row, "state")?,
            digest: row.try_get("digest")?,
            resolved_count: row.try_get("resolved_count")?,
            reset_count: row.try_get("reset_count")?,
            root_ts: row.try_get("root_ts")?,
            progress_ts: row.try_get("progress_ts")?,
            summary_ts: row.try_get("summary_ts")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            stop_reason: row.try_get("stop_reason")?,
            cancelled_by: codec::id_opt(row, "cancelled_by")?,
            cancelled_at: row.try_get("cancelled_at")?,
            continue_ts: row.try_get("continue_ts")?,
            decision: match decision {
                Some(decision) => Some(Decision {
                    decision,
                    actor: codec::id(row, "actor")?,
                    decided_at: row.try_get("decided_at")?,
                }),
                None => None,
            },
        })
    }
}
