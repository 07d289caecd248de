//! The one implementation of `Store`, over either SQL backend: every query is written once,
//! in `$N` placeholders, which sqlx binds by number on PostgreSQL and on SQLite alike.
//!
//! `SqlStore<DB>` is generic over sqlx's `Database` (`Sqlite` or `Postgres`); what truly differs
//! between the two sits in the small `Backend` trait (`sqlite.rs`, `postgres.rs`): how a write
//! transaction begins, the locks PostgreSQL takes where SQLite's single writer already
//! serialises, how a table is found, the migrations, `exclusive` sections, and opening.
//!
//! Why generic over `Database` and not `sqlx::Any`: `Any` maps types by what a value looks like
//! at run time (booleans come back from SQLite as integers), takes its own connect options (no
//! WAL, no `search_path`), and still leaks each dialect; the generic code is checked by the
//! compiler against each driver's own types. The price is the `where` clause below, repeated on
//! each area's `impl` block (Rust does not carry such bounds along from a trait).
//!
//! One file per area: `requests` (requests, staging, lookups, transitions), `targets`,
//! `runs` (leases, inbound events), `audit` (the hash chain and the schema guard),
//! `sign_offs`, `step_ups`, `notices`. Each record is read from a row by one function.

mod audit;
mod notices;
mod requests;
mod runs;
mod sign_offs;
mod step_ups;
mod targets;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};

use super::*;

/// What differs between the SQL backends; everything else is `SqlStore`'s shared code.
#[async_trait]
pub trait Backend: Database {
    /// State a store of this backend keeps beside its pool (`exclusive` sections).
    type Extra: Send + Sync + 'static;
    /// Begins a transaction that reads and then writes what must not change in between. SQLite
    /// takes its write lock at once (`BEGIN IMMEDIATE`), so two such transactions queue (busy
    /// timeout) instead of both reading; PostgreSQL locks rows (`FOR_UPDATE`) and tables
    /// (`LOCK_AUDIT`) explicitly.
    const BEGIN_WRITE: &'static str;
    /// Ends a `SELECT` that must lock the rows it read until commit; empty on SQLite, whose
    /// write transaction already holds every row.
    const FOR_UPDATE: &'static str;
    /// Run first by every audit append in its transaction, so appenders on several replicas
    /// queue instead of reading the same head and forking the chain.
    const LOCK_AUDIT: &'static [&'static str];
    /// Run first by the one-time legacy seal: replicas starting together seal once.
    const LOCK_SEAL: &'static [&'static str];
    /// Counts the tables named `$1` the store can see (0 or 1).
    const TABLE_EXISTS: &'static str;

    /// This backend's migrations (`migrations/sqlite`, `migrations/postgres`).
    fn migrator() -> &'static Migrator;
    async fn migrate(pool: &Pool<Self>) -> StoreResult<()>;
    fn rows_affected(done: &Self::QueryResult) -> u64;
    /// See `Store::exclusive`.
    async fn exclusive(
        pool: &Pool<Self>,
        extra: &Self::Extra,
        name: &str,
    ) -> StoreResult<Exclusive>;
}

/// The store over one SQL backend: `SqliteStore` and `PgStore` are its two instances.
pub struct SqlStore<DB: Backend> {
    pub(super) pool: Pool<DB>,
    pub(super) extra: DB::Extra,
}

impl<DB: Backend> SqlStore<DB> {
    /// The newest migration this build carries: the schema version it writes and understands.
    pub fn known_schema_version() -> i64 {
        DB::migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }
}

/// The `where` clause, the same on every area's `impl` block, is what the shared code asks of
/// sqlx: run queries on a pool and in a transaction, bind integers, booleans and text (or
/// NULL), read them back, and find columns by name and by position. Both drivers have it all.
///
/// Each method calls its area's inherent method of the same name (`SqlStore::name`, which Rust
/// resolves to the inherent one before the trait's).
#[async_trait]
impl<DB: Backend> Store for SqlStore<DB>
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
    async fn create_request(&self, req: &NewRequest, targets: &[NewTarget]) -> StoreResult<()> {
        SqlStore::create_request(self, req, targets).await
    }

    async fn stage_targets(
        &self,
        request_id: &str,
        first_seq: i64,
        targets: &[NewTarget],
        at: i64,
    ) -> StoreResult<()> {
        SqlStore::stage_targets(self, request_id, first_seq, targets, at).await
    }

    async fn create_request_from_staged(&self, req: &NewRequest) -> StoreResult<()> {
        SqlStore::create_request_from_staged(self, req).await
    }

    async fn discard_staged(&self, request_id: &str) -> StoreResult<()> {
        SqlStore::discard_staged(self, request_id).await
    }

    async fn discard_staged_before(&self, before: i64) -> StoreResult<u64> {
        SqlStore::discard_staged_before(self, before).await
    }

    async fn get_request(&self, id: &str) -> StoreResult<Option<RequestRecord>> {
        SqlStore::get_request(self, id).await
    }

    async fn requests_in_states(&self, states: &[State]) -> StoreResult<Vec<RequestRecord>> {
        SqlStore::requests_in_states(self, states).await
    }

    async fn requests_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        SqlStore::requests_by_since(self, requester, since).await
    }

    async fn record_lookup(&self, id: &str, requester: &str, at: i64) -> StoreResult<()> {
        SqlStore::record_lookup(self, id, requester, at).await
    }

    async fn lookups_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        SqlStore::lookups_by_since(self, requester, since).await
    }

    async fn set_root_ts(&self, id: &str, ts: &str) -> StoreResult<()> {
        self.set_request_text(id, "root_ts", ts).await
    }

    async fn set_progress_ts(&self, id: &str, ts: &str) -> StoreResult<()> {
        self.set_request_text(id, "progress_ts", ts).await
    }

    async fn claim_summary(&self, id: &str, ts: &str) -> StoreResult<bool> {
        SqlStore::claim_summary(self, id, ts).await
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
        self.set_request_text(id, "stop_reason", reason).await
    }

    async fn cancel(
        &self,
        id: &str,
        from: State,
        by: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        SqlStore::cancel(self, id, from, by, at, event).await
    }

    async fn set_continue_ts(&self, id: &str, ts: &str) -> StoreResult<()> {
        self.set_request_text(id, "continue_ts", ts).await
    }

    async fn add_approval(
        &self,
        id: &str,
        approver: &str,
        at: i64,
        event: &ApprovalEvent<'_>,
    ) -> StoreResult<ApprovalAdded> {
        SqlStore::add_approval(self, id, approver, at, event).await
    }

    async fn continue_run(
        &self,
        id: &str,
        actor: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        SqlStore::continue_run(self, id, actor, at, event).await
    }

    async fn sign_offs(&self, id: &str) -> StoreResult<Vec<SignOff>> {
        SqlStore::sign_offs(self, id).await
    }

    async fn targets(&self, id: &str) -> StoreResult<Vec<TargetRecord>> {
        self.targets_where(id, "").await
    }

    async fn pending_resets(&self, id: &str) -> StoreResult<Vec<TargetRecord>> {
        self.targets_where(id, "AND classification = 'reset' AND outcome = 'pending'")
            .await
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
        SqlStore::set_outcome(self, id, seq, outcome, reason, okta_request_id, at).await
    }

    async fn mark_in_flight(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        SqlStore::mark_in_flight(self, id, seq, at).await
    }

    async fn set_sessions(
        &self,
        id: &str,
        seq: i64,
        sessions: Sessions,
        reason: Option<&str>,
    ) -> StoreResult<()> {
        SqlStore::set_sessions(self, id, seq, sessions, reason).await
    }

    async fn outcome_counts(&self, id: &str) -> StoreResult<Vec<(Outcome, i64)>> {
        SqlStore::outcome_counts(self, id).await
    }

    async fn resets_identity(&self, id: &str, identities: &[String]) -> StoreResult<bool> {
        SqlStore::resets_identity(self, id, identities).await
    }

    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()> {
        SqlStore::append_audit(self, event).await
    }

    async fn audit_events(&self, request_id: Option<&str>) -> StoreResult<Vec<AuditEvent>> {
        SqlStore::audit_events(self, request_id).await
    }

    async fn audit_page(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>> {
        SqlStore::audit_page(self, query).await
    }

    async fn last_audit(&self, action: &str) -> StoreResult<Option<AuditRecord>> {
        SqlStore::last_audit(self, action).await
    }

    async fn ping(&self) -> StoreResult<()> {
        SqlStore::ping(self).await
    }

    async fn claim_run(&self, id: &str, owner: &str, now: i64, until: i64) -> StoreResult<bool> {
        SqlStore::claim_run(self, id, owner, now, until).await
    }

    async fn release_run(&self, id: &str, owner: &str) -> StoreResult<()> {
        SqlStore::release_run(self, id, owner).await
    }

    async fn runs_without_holder(&self, now: i64) -> StoreResult<Vec<String>> {
        SqlStore::runs_without_holder(self, now).await
    }

    async fn unsummarized_runs(&self, now: i64) -> StoreResult<Vec<String>> {
        SqlStore::unsummarized_runs(self, now).await
    }

    async fn exclusive(&self, name: &str) -> StoreResult<Exclusive> {
        DB::exclusive(&self.pool, &self.extra, name).await
    }

    async fn claim_event(&self, key: &str, at: i64) -> StoreResult<bool> {
        SqlStore::claim_event(self, key, at).await
    }

    async fn forget_events_before(&self, before: i64) -> StoreResult<u64> {
        SqlStore::forget_events_before(self, before).await
    }

    async fn create_step_up(
        &self,
        s: &StepUpRecord,
        replace_live: bool,
        now: i64,
    ) -> StoreResult<bool> {
        SqlStore::create_step_up(self, s, replace_live, now).await
    }

    async fn claim_step_up(
        &self,
        key: StepUpKey<'_>,
        from: StepUpState,
        to: StepUpState,
        at: i64,
    ) -> StoreResult<StepUpClaim> {
        SqlStore::claim_step_up(self, key, from, to, at).await
    }

    async fn set_step_up_oidc(
        &self,
        token_hash: &str,
        state_hash: &str,
        nonce_hash: &str,
        verifier: &str,
    ) -> StoreResult<()> {
        SqlStore::set_step_up_oidc(self, token_hash, state_hash, nonce_hash, verifier).await
    }

    async fn settle_step_up(
        &self,
        token_hash: &str,
        state: StepUpState,
        amr: Option<&str>,
        auth_time: Option<i64>,
        at: i64,
    ) -> StoreResult<()> {
        SqlStore::settle_step_up(self, token_hash, state, amr, auth_time, at).await
    }

    async fn step_ups(&self, request_id: &str) -> StoreResult<Vec<StepUpRecord>> {
        SqlStore::step_ups(self, request_id).await
    }

    async fn claim_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        SqlStore::claim_notice(self, id, seq, at).await
    }

    async fn settle_notice(
        &self,
        id: &str,
        seq: i64,
        outcome: &NoticeOutcome<'_>,
        at: i64,
    ) -> StoreResult<()> {
        SqlStore::settle_notice(self, id, seq, outcome, at).await
    }

    async fn report_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool> {
        SqlStore::report_notice(self, id, seq, at).await
    }

    async fn notices(&self, id: &str) -> StoreResult<Vec<NoticeRecord>> {
        SqlStore::notices(self, id).await
    }
}
