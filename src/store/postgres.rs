//! PostgreSQL adapter: the engine for several replicas sharing one store. Same contract as the
//! SQLite adapter (see `contract_tests`), its own migrations in `migrations/postgres`.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};

use super::*;

pub struct PgStore {
    pool: PgPool,
    /// The schema's share of advisory-lock keys: deployments (and tests) in other schemas of the
    /// same database never wait on each other.
    lock_space: i32,
    /// This process's turn at `exclusive` sections, taken before the advisory lock.
    gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl PgStore {
    /// `url` may carry `?options[search_path]=SCHEMA` to keep the tables in their own schema.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("`{}`: {e}", redact_url(url))))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(url))))?;
        // Before migrating: a store from a newer okta-reset is refused untouched.
        let known = Self::known_schema_version();
        super::postgres_audit::check_schema(&pool, url, known).await?;
        MIGRATOR.run(&pool).await?;
        super::postgres_audit::record_schema(&pool, known).await?;
        super::postgres_audit::seal_legacy(&pool).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            lock_space: super::exclusive::key_of(&schema),
            gate: Default::default(),
        })
    }

    /// Opens the store for reading only (`audit verify|export`): every transaction of the
    /// session is read-only (`default_transaction_read_only`), no migration runs, nothing is
    /// recorded or sealed. A store from a newer okta-reset is still refused.
    pub async fn open_read_only(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Open(format!("`{}`: {e}", redact_url(url))))?
            .options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(url))))?;
        super::postgres_audit::check_schema(&pool, url, Self::known_schema_version()).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            lock_space: super::exclusive::key_of(&schema),
            gate: Default::default(),
        })
    }

    /// `transition`, and with `event` `transition_audited`: the event is appended in the same
    /// transaction, only if the change was made.
    async fn transition_with(
        &self,
        id: &str,
        from: State,
        to: State,
        decision: Option<&Decision>,
        at: i64,
        event: Option<&AuditEvent>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let stamp = match to {
            State::Running => "started_at = COALESCE(started_at, $3),",
            s if s.is_final() => "finished_at = COALESCE(finished_at, $3),",
            _ => "",
        };
        let sql = format!("UPDATE requests SET {stamp} state = $1 WHERE id = $2 AND state = $4");
        let changed = sqlx::query(&sql)
            .bind(to.code())
            .bind(id)
            .bind(at)
            .bind(from.code())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !changed {
            return Ok(false);
        }
        if let Some(d) = decision {
            sqlx::query(
                "INSERT INTO decisions (request_id, decision, actor, decided_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(d.decision.code())
            .bind(&d.actor)
            .bind(d.decided_at)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(event) = event {
            super::postgres_audit::append_in(&mut tx, event).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The newest migration this build carries: the schema version it writes and understands.
    pub fn known_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL server tests and drills use: `OKTA_RESET_TEST_DATABASE_URL`, or the local
/// server this project's machines run.
pub fn test_server_url() -> String {
    std::env::var("OKTA_RESET_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".to_string())
}

/// Creates an empty schema on `server_url` and returns a store URL that keeps every table in
/// it, so concurrent tests (and replicas of one drill) share nothing else.
pub async fn scratch_schema_url(server_url: &str) -> StoreResult<String> {
    use rand::Rng;
    let name: String = format!("t_{:016x}", rand::thread_rng().gen::<u64>());
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(server_url)
        .await
        .map_err(|e| StoreError::Open(format!("{}: {e}", redact_url(server_url))))?;
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let sep = if server_url.contains('?') { '&' } else { '?' };
    Ok(format!("{server_url}{sep}options[search_path]={name}"))
}

/// The URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

const REQUEST_COLUMNS: &str =
    "r.id, r.team_id, r.channel_id, r.requester, r.command_text, r.reason, \
    r.dry_run, r.revoke_sessions, r.contain, r.state, r.digest, r.resolved_count, r.reset_count, r.root_ts, \
    r.progress_ts, r.summary_ts, r.created_at, r.expires_at, r.started_at, r.finished_at, \
    r.stop_reason, r.cancelled_by, r.cancelled_at, r.continue_ts, d.decision, d.actor, d.decided_at";

const TARGET_COLUMNS: &str = "seq, okta_id, login, email, display_name, status, provider, source, \
    classification, detail, outcome, outcome_reason, okta_request_id, outcome_at, sessions, sessions_reason";

fn request_from_row(row: &PgRow) -> StoreResult<RequestRecord> {
    let decision: Option<DecisionKind> = codec::column_opt(row, "decision")?;
    Ok(RequestRecord {
        id: row.try_get("id")?,
        team_id: row.try_get("team_id")?,
        channel_id: row.try_get("channel_id")?,
        requester: row.try_get("requester")?,
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
        cancelled_by: row.try_get("cancelled_by")?,
        cancelled_at: row.try_get("cancelled_at")?,
        continue_ts: row.try_get("continue_ts")?,
        decision: match decision {
            Some(decision) => Some(Decision {
                decision,
                actor: row.try_get("actor")?,
                decided_at: row.try_get("decided_at")?,
            }),
            None => None,
        },
    })
}

fn target_from_row(row: &PgRow) -> StoreResult<TargetRecord> {
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

#[async_trait]
impl Store for PgStore {
    async fn stage_targets(
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

    async fn create_request_from_staged(&self, r: &NewRequest) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO requests (id, team_id, channel_id, requester, command_text, reason, dry_run, \
             revoke_sessions, state, digest, resolved_count, reset_count, created_at, expires_at, contain) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(&r.team_id)
        .bind(&r.channel_id)
        .bind(&r.requester)
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
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO targets (request_id, seq, okta_id, login, email, display_name, status, \
             provider, source, classification, detail, outcome) \
             SELECT request_id, seq, okta_id, login, email, display_name, status, provider, source, \
             classification, detail, CASE WHEN classification = 'reset' THEN $2 ELSE $3 END \
             FROM staged_targets WHERE request_id = $1 ORDER BY seq",
        )
        .bind(&r.id)
        .bind(Outcome::Pending.code())
        .bind(Outcome::Skipped.code())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM staged_targets WHERE request_id = $1")
            .bind(&r.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn discard_staged_before(&self, before: i64) -> StoreResult<u64> {
        // Rows staged before the column existed hold 0 and are left alone: a replica still on the
        // old version may be writing them during a rolling upgrade.
        let done = sqlx::query("DELETE FROM staged_targets WHERE staged_at > 0 AND staged_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn discard_staged(&self, request_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM staged_targets WHERE request_id = $1")
            .bind(request_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_request(&self, r: &NewRequest, targets: &[NewTarget]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO requests (id, team_id, channel_id, requester, command_text, reason, dry_run, \
             revoke_sessions, state, digest, resolved_count, reset_count, created_at, expires_at, contain) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(&r.team_id)
        .bind(&r.channel_id)
        .bind(&r.requester)
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
        .execute(&mut *tx)
        .await?;
        for (seq, t) in targets.iter().enumerate() {
            let outcome = t.initial_outcome();
            sqlx::query(
                "INSERT INTO targets (request_id, seq, okta_id, login, email, display_name, status, \
                 provider, source, classification, detail, outcome) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&r.id)
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

    async fn get_request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests r LEFT JOIN decisions d ON d.request_id = r.id \
             WHERE r.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    async fn requests_in_states(&self, states: &[State]) -> StoreResult<Vec<RequestRecord>> {
        if states.is_empty() {
            return Ok(Vec::new());
        }
        let marks = (1..=states.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests r LEFT JOIN decisions d ON d.request_id = r.id \
             WHERE r.state IN ({marks}) ORDER BY r.created_at"
        );
        let mut q = sqlx::query(&sql);
        for s in states {
            q = q.bind(s.code());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(request_from_row).collect()
    }

    async fn requests_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests r LEFT JOIN decisions d ON d.request_id = r.id \
             WHERE r.requester = $1 AND r.created_at > $2 ORDER BY r.created_at, r.id"
        );
        let rows = sqlx::query(&sql)
            .bind(requester)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(request_from_row).collect()
    }

    async fn record_lookup(&self, id: &str, requester: &str, at: i64) -> StoreResult<()> {
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

    async fn lookups_by_since(
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

    async fn set_root_ts(&self, id: &str, ts: &str) -> StoreResult<()> {
        sqlx::query("UPDATE requests SET root_ts = $1 WHERE id = $2")
            .bind(ts)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn set_progress_ts(&self, id: &str, ts: &str) -> StoreResult<()> {
        sqlx::query("UPDATE requests SET progress_ts = $1 WHERE id = $2")
            .bind(ts)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn claim_summary(&self, id: &str, ts: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE requests SET summary_ts = $1 WHERE id = $2 AND summary_ts IS NULL")
                .bind(ts)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn transition(
        &self,
        id: &str,
        from: State,
        to: State,
        decision: Option<&Decision>,
        at: i64,
    ) -> StoreResult<bool> {
        self.transition_with(id, from, to, decision, at, None).await
    }

    async fn transition_audited(
        &self,
        id: &str,
        from: State,
        to: State,
        decision: Option<&Decision>,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        self.transition_with(id, from, to, decision, at, Some(event))
            .await
    }

    async fn set_stop_reason(&self, id: &str, reason: &str) -> StoreResult<()> {
        sqlx::query("UPDATE requests SET stop_reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn add_approval(
        &self,
        id: &str,
        approver: &str,
        at: i64,
        event: &ApprovalEvent<'_>,
    ) -> StoreResult<ApprovalAdded> {
        super::postgres_sign_offs::add_approval(&self.pool, id, approver, at, event).await
    }

    async fn continue_run(
        &self,
        id: &str,
        actor: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        super::postgres_sign_offs::continue_run(&self.pool, id, actor, at, event).await
    }

    async fn cancel(
        &self,
        id: &str,
        from: State,
        by: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        super::postgres_sign_offs::cancel(&self.pool, id, from, by, at, event).await
    }

    async fn set_continue_ts(&self, id: &str, ts: &str) -> StoreResult<()> {
        super::postgres_sign_offs::set_continue_ts(&self.pool, id, ts).await
    }

    async fn sign_offs(&self, id: &str) -> StoreResult<Vec<SignOff>> {
        super::postgres_sign_offs::sign_offs(&self.pool, id).await
    }

    async fn targets(&self, id: &str) -> StoreResult<Vec<TargetRecord>> {
        let sql =
            format!("SELECT {TARGET_COLUMNS} FROM targets WHERE request_id = $1 ORDER BY seq");
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter().map(target_from_row).collect()
    }

    async fn pending_resets(&self, id: &str) -> StoreResult<Vec<TargetRecord>> {
        let sql = format!(
            "SELECT {TARGET_COLUMNS} FROM targets WHERE request_id = $1 AND classification = 'reset' \
             AND outcome = 'pending' ORDER BY seq"
        );
        let rows = sqlx::query(&sql).bind(id).fetch_all(&self.pool).await?;
        rows.iter().map(target_from_row).collect()
    }

    async fn set_sessions(
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

    async fn set_outcome(
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

    async fn outcome_counts(&self, id: &str) -> StoreResult<Vec<(Outcome, i64)>> {
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

    async fn resets_identity(&self, id: &str, identities: &[String]) -> StoreResult<bool> {
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

    async fn append_audit(&self, e: &AuditEvent) -> StoreResult<()> {
        super::postgres_audit::append(&self.pool, e).await
    }

    async fn audit_events(&self, request_id: Option<&str>) -> StoreResult<Vec<AuditEvent>> {
        super::postgres_audit::events(&self.pool, request_id).await
    }

    async fn audit_page(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        super::postgres_audit::page(&self.pool, query).await
    }

    async fn last_audit(&self, action: &str) -> StoreResult<Option<AuditRecord>> {
        super::postgres_audit::last(&self.pool, action).await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
    async fn claim_run(&self, id: &str, owner: &str, now: i64, until: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE requests SET lease_owner = $2, lease_until = $4 WHERE id = $1 \
             AND (state IN ('approved', 'running') \
             OR (state IN ('completed', 'stopped', 'cancelled') AND started_at IS NOT NULL AND summary_ts IS NULL)) \
             AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $3)",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_run(&self, id: &str, owner: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE requests SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn runs_without_holder(&self, now: i64) -> StoreResult<Vec<String>> {
        let ids = sqlx::query_scalar(
            "SELECT id FROM requests WHERE state IN ('approved', 'running') \
             AND (lease_owner IS NULL OR lease_until < $1) ORDER BY created_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    async fn unsummarized_runs(&self, now: i64) -> StoreResult<Vec<String>> {
        let ids = sqlx::query_scalar(
            "SELECT id FROM requests WHERE state IN ('completed', 'stopped', 'cancelled') AND started_at IS NOT NULL AND summary_ts IS NULL \
             AND (lease_owner IS NULL OR lease_until < $1) ORDER BY created_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids)
    }

    async fn exclusive(&self, name: &str) -> StoreResult<Exclusive> {
        Exclusive::postgres(&self.gate, &self.pool, self.lock_space, name).await
    }

    async fn create_step_up(
        &self,
        s: &StepUpRecord,
        replace_live: bool,
        now: i64,
    ) -> StoreResult<bool> {
        super::step_up::postgres::create(&self.pool, s, replace_live, now).await
    }

    async fn claim_step_up(
        &self,
        key: StepUpKey<'_>,
        from: StepUpState,
        to: StepUpState,
        at: i64,
    ) -> StoreResult<StepUpClaim> {
        super::step_up::postgres::claim(&self.pool, key, from, to, at).await
    }

    async fn set_step_up_oidc(
        &self,
        token_hash: &str,
        state_hash: &str,
        nonce_hash: &str,
        verifier: &str,
    ) -> StoreResult<()> {
        super::step_up::postgres::set_oidc(&self.pool, token_hash, state_hash, nonce_hash, verifier)
            .await
    }

    async fn settle_step_up(
        &self,
        token_hash: &str,
        state: StepUpState,
        amr: Option<&str>,
        auth_time: Option<i64>,
        at: i64,
    ) -> StoreResult<()> {
        super::step_up::postgres::settle(&self.pool, token_hash, state, amr, auth_time, at).await
    }

    async fn step_ups(&self, request_id: &str) -> StoreResult<Vec<StepUpRecord>> {
        super::step_up::postgres::of_request(&self.pool, request_id).await
    }

    async fn claim_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        super::notices::postgres::claim(&self.pool, id, seq, at).await
    }

    async fn settle_notice(
        &self,
        id: &str,
        seq: i64,
        outcome: &super::NoticeOutcome<'_>,
        at: i64,
    ) -> StoreResult<()> {
        super::notices::postgres::settle(&self.pool, id, seq, outcome, at).await
    }

    async fn report_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        super::notices::postgres::report(&self.pool, id, seq, at).await
    }

    async fn notices(&self, id: &str) -> StoreResult<Vec<super::NoticeRecord>> {
        super::notices::postgres::of_request(&self.pool, id).await
    }

    async fn claim_event(&self, key: &str, at: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO seen_events (event_key, seen_at) VALUES ($1, $2) ON CONFLICT (event_key) DO NOTHING",
        )
        .bind(key)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn forget_events_before(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM seen_events WHERE seen_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
