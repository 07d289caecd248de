//! Durable state: requests, their frozen target snapshots, decisions, per-user outcomes and the
//! audit log. One trait, two adapters: the backend is chosen from the URL scheme —
//! `sqlite://` (embedded default, one replica) or `postgres://` (several replicas). Both are
//! one implementation, `sql::SqlStore`, over sqlx's `Sqlite` or `Postgres`: each query is
//! written once; `sqlite.rs` and `postgres.rs` hold only what differs (`sql::Backend`).
//!
//! Records carry the domain's types (`domain::records`): coded columns and ids are converted
//! once, in `codec`, and a stored value that does not map is `StoreError::Corrupt`. The trait's
//! key parameters (`id: &str`, `requester: &str`, …) stay plain strings to keep the interface
//! small; callers pass `r.id.as_str()`.

mod codec;
mod exclusive;
mod postgres;
mod sql;
mod sqlite;
mod step_up;

use std::sync::Arc;

use async_trait::async_trait;

pub use exclusive::Exclusive;
pub use postgres::{redact_url, scratch_schema_url, test_server_url, PgStore};
pub use sql::{Backend, SqlStore};
pub use sqlite::SqliteStore;
pub use step_up::{StepUpClaim, StepUpKey};

// The records the store reads and writes are the application's (`domain::records`); they are
// re-exported so store code can keep naming them here.
pub use crate::domain::classify::TargetClass;
pub use crate::domain::kinds::{
    DecisionKind, NoticeState, Outcome, Sessions, SignOffKind, StepUpState,
};
pub use crate::domain::records::{
    AuditEvent, AuditRecord, Decision, NewRequest, NewTarget, NoticeOutcome, NoticeRecord,
    RequestRecord, SignOff, StepUpRecord, TargetRecord,
};

use crate::domain::request::State;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("cannot open the store: {0}")]
    Open(String),
    #[error("the store at {url} is at schema version {found}, newer than this okta-reset knows ({supported}): it was written by a newer okta-reset. Use that version (or newer) with this store; nothing was changed")]
    NewerSchema {
        url: String,
        found: i64,
        supported: i64,
    },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Builds the audit event of a recorded approval from the number of approvals so far.
pub type ApprovalEvent<'a> = dyn Fn(usize) -> AuditEvent + Send + Sync + 'a;

/// What `add_approval` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalAdded {
    /// Recorded; the request's approvers so far, in the order they approved, this one included.
    Added(Vec<String>),
    /// This approver had already approved the request: nothing was recorded.
    AlreadyApproved,
    /// The request is no longer pending approval: nothing was recorded.
    NotPending,
}

/// A page of the audit log in storage order: events with `id > after_id`, optionally only those
/// at or after `since` (Unix ms) and of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub after_id: i64,
    pub since: Option<i64>,
    pub request_id: Option<String>,
    pub limit: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a request with its whole target snapshot, atomically.
    async fn create_request(&self, req: &NewRequest, targets: &[NewTarget]) -> StoreResult<()>;
    /// Writes a page of targets of a request still being resolved (seq `first_seq`, +1, …),
    /// staged at `at` (ms).
    async fn stage_targets(
        &self,
        request_id: &str,
        first_seq: i64,
        targets: &[NewTarget],
        at: i64,
    ) -> StoreResult<()>;
    /// Creates the request and moves its staged targets into its snapshot, atomically.
    async fn create_request_from_staged(&self, req: &NewRequest) -> StoreResult<()>;
    /// Deletes the staged targets of a request that will not be created.
    async fn discard_staged(&self, request_id: &str) -> StoreResult<()>;
    /// Deletes staged targets written before `before` (ms): left by a process that died while
    /// resolving. Returns how many rows went.
    async fn discard_staged_before(&self, before: i64) -> StoreResult<u64>;
    async fn get_request(&self, id: &str) -> StoreResult<Option<RequestRecord>>;
    async fn requests_in_states(&self, states: &[State]) -> StoreResult<Vec<RequestRecord>>;
    /// Requests made by `requester` after `since` (Unix ms, exclusive), oldest first, in any
    /// state: what the per-person limits count (`domain::limits`).
    async fn requests_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<RequestRecord>>;
    /// Records that request `id` of `requester` is about to ask Okta (at `at`, ms), before it
    /// is stored or refused: the hourly limit counts every request that reached Okta.
    async fn record_lookup(&self, id: &str, requester: &str, at: i64) -> StoreResult<()>;
    /// The ids and times of `requester`'s lookups after `since` (ms, exclusive), oldest first.
    async fn lookups_by_since(
        &self,
        requester: &str,
        since: i64,
    ) -> StoreResult<Vec<(String, i64)>>;
    async fn set_root_ts(&self, id: &str, ts: &str) -> StoreResult<()>;
    async fn set_progress_ts(&self, id: &str, ts: &str) -> StoreResult<()>;
    /// Records that the summary was posted; false if it already had been (post it once only).
    async fn claim_summary(&self, id: &str, ts: &str) -> StoreResult<bool>;
    /// Moves `id` from `from` to `to` only if it is still in `from`; records the decision row
    /// when `decision` is given. Returns whether this call made the change.
    async fn transition(
        &self,
        id: &str,
        from: State,
        to: State,
        decision: Option<&Decision>,
        at: i64,
    ) -> StoreResult<bool>;
    /// `transition` that also appends `event` to the audit chain in the same transaction: the
    /// change is made only if its audit event is written (fail closed), and the event only if
    /// the change was made.
    async fn transition_audited(
        &self,
        id: &str,
        from: State,
        to: State,
        decision: Option<&Decision>,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool>;
    async fn set_stop_reason(&self, id: &str, reason: &str) -> StoreResult<()>;
    /// A person's cancel: moves `id` from `from` to `cancelled` only if it is still in `from`,
    /// recording who cancelled and when (`cancelled_by`, `cancelled_at`); a request cancelled
    /// while pending approval also gets its decision row (`cancelled` by them). Returns whether
    /// this call made the change. `event` is appended to the audit chain in the same
    /// transaction: no cancel without its audit event.
    async fn cancel(
        &self,
        id: &str,
        from: State,
        by: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Records the message that carries a paused run's Continue button.
    async fn set_continue_ts(&self, id: &str, ts: &str) -> StoreResult<()>;
    /// Records `approver`'s approval of `id` if the request is still pending approval and they
    /// had not approved it yet, in one transaction that the request's decision cannot
    /// interleave with; returns every approver so far. The caller makes the request approved
    /// (with `transition`) once enough distinct approvers are recorded.
    /// The audit event of a recorded approval (`event(approvals so far)`) is appended in the
    /// same transaction: no approval without its audit event.
    async fn add_approval(
        &self,
        id: &str,
        approver: &str,
        at: i64,
        event: &ApprovalEvent<'_>,
    ) -> StoreResult<ApprovalAdded>;
    /// Moves a paused run back to `approved` and records who continued it, atomically; false
    /// if it was no longer paused (cancelled, or continued by someone else). `event` is appended
    /// to the audit chain in the same transaction.
    async fn continue_run(
        &self,
        id: &str,
        actor: &str,
        at: i64,
        event: &AuditEvent,
    ) -> StoreResult<bool>;
    /// The request's sign-offs (approvals, Continue), oldest first.
    async fn sign_offs(&self, id: &str) -> StoreResult<Vec<SignOff>>;
    async fn targets(&self, id: &str) -> StoreResult<Vec<TargetRecord>>;
    /// Targets classified `reset` whose outcome is still `pending`.
    async fn pending_resets(&self, id: &str) -> StoreResult<Vec<TargetRecord>>;
    async fn set_outcome(
        &self,
        id: &str,
        seq: i64,
        outcome: Outcome,
        reason: Option<&str>,
        okta_request_id: Option<&str>,
        at: i64,
    ) -> StoreResult<()>;
    /// Journals that the reset of target `seq` is about to be sent (`in_flight`), only if the
    /// target is still `pending`: false if anyone (another replica after a lease takeover, an
    /// earlier pass) already took or settled it, and then no call may go out.
    async fn mark_in_flight(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool>;
    /// Journals the `--contain` step of one user, apart from the reset outcome.
    async fn set_sessions(
        &self,
        id: &str,
        seq: i64,
        sessions: Sessions,
        reason: Option<&str>,
    ) -> StoreResult<()>;
    /// Counts of targets by outcome.
    async fn outcome_counts(&self, id: &str) -> StoreResult<Vec<(Outcome, i64)>>;
    /// Whether a target to be reset has one of `identities` (lower-case logins/emails).
    async fn resets_identity(&self, id: &str, identities: &[String]) -> StoreResult<bool>;
    /// Appends `event` to the hash chain in one transaction that reads the head and inserts
    /// (see `crate::domain::audit_chain`), so concurrent appends cannot fork the chain.
    async fn append_audit(&self, event: &AuditEvent) -> StoreResult<()>;
    async fn audit_events(&self, request_id: Option<&str>) -> StoreResult<Vec<AuditEvent>>;
    /// One page of the audit log with its chain columns, in storage order (`id`).
    async fn audit_page(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRecord>>;
    /// The latest event (highest `seq`) with this action, e.g. the previous `policy_loaded`.
    async fn last_audit(&self, action: &str) -> StoreResult<Option<AuditRecord>>;
    async fn ping(&self) -> StoreResult<()>;
    /// Takes (or renews) the lease on a run for `owner` until `until`, if the run is approved or
    /// running — or ended without its summary posted — and nobody else holds a live lease.
    /// Returns whether `owner` now holds it.
    async fn claim_run(&self, id: &str, owner: &str, now: i64, until: i64) -> StoreResult<bool>;
    /// Gives the lease up (clean shutdown, run finished) so another replica need not wait.
    async fn release_run(&self, id: &str, owner: &str) -> StoreResult<()>;
    /// Approved or running requests whose lease is free or lapsed at `now`.
    async fn runs_without_holder(&self, now: i64) -> StoreResult<Vec<String>>;
    /// Runs that ended (completed, stopped, cancelled after starting) without their summary in
    /// the thread, held by nobody at `now`: Slack was away longer than the run's own retries.
    async fn unsummarized_runs(&self, now: i64) -> StoreResult<Vec<String>>;
    /// Waits until no other holder — in this process or in any replica sharing the store — is
    /// inside the section `name`, and holds it until the guard is dropped.
    async fn exclusive(&self, name: &str) -> StoreResult<Exclusive>;
    /// Records that the inbound event `key` (a Slack `event_id`, or a message's channel and ts)
    /// is being handled; false if it already was, so a retry or a second delivery is dropped.
    async fn claim_event(&self, key: &str, at: i64) -> StoreResult<bool>;
    /// Forgets claims older than `before` (Slack stops retrying after minutes); returns how many.
    async fn forget_events_before(&self, before: i64) -> StoreResult<u64>;
    /// Records a pending Okta confirmation. If the same approver already has a live one (not
    /// settled, not expired at `now`) for the same request and kind: with `replace_live` the old
    /// one is superseded, without it nothing is written and the answer is false.
    async fn create_step_up(
        &self,
        s: &StepUpRecord,
        replace_live: bool,
        now: i64,
    ) -> StoreResult<bool>;
    /// Moves the confirmation found by `key` from state `from` to `to` only if it is in `from`
    /// (single use, across replicas).
    async fn claim_step_up(
        &self,
        key: StepUpKey<'_>,
        from: StepUpState,
        to: StepUpState,
        at: i64,
    ) -> StoreResult<StepUpClaim>;
    /// Binds the OIDC sign-in's `state` and `nonce` (hashed) and PKCE verifier to a confirmation.
    async fn set_step_up_oidc(
        &self,
        token_hash: &str,
        state_hash: &str,
        nonce_hash: &str,
        verifier: &str,
    ) -> StoreResult<()>;
    /// Ends a confirmation (`confirmed` or `failed`), with what Okta said about the sign-in.
    async fn settle_step_up(
        &self,
        token_hash: &str,
        state: StepUpState,
        amr: Option<&str>,
        auth_time: Option<i64>,
        at: i64,
    ) -> StoreResult<()>;
    /// A request's confirmations, oldest click first.
    async fn step_ups(&self, request_id: &str) -> StoreResult<Vec<StepUpRecord>>;
    /// Journals that target `seq` of `id` is about to be told by DM (`sending`); false if a
    /// notice for them already exists (sent, refused, or left mid-send by a dead process).
    async fn claim_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool>;
    /// Records how a claimed notice ended.
    async fn settle_notice(
        &self,
        id: &str,
        seq: i64,
        outcome: &NoticeOutcome<'_>,
        at: i64,
    ) -> StoreResult<()>;
    /// Records the person's "I didn't expect this" once; false if it was already recorded.
    async fn report_notice(&self, id: &str, seq: i64, at: i64) -> StoreResult<bool>;
    /// A request's notices, by target seq.
    async fn notices(&self, id: &str) -> StoreResult<Vec<NoticeRecord>>;
}

/// Opens the store named by `url` (creating it if needed) and applies its migrations.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    open_with(url, true).await
}

/// Opens an existing store read-only (the `audit` commands): no migration, no seal, no write of
/// any kind — a check that could write could bless what it checks.
pub async fn open_read_only(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open_read_only(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::open_read_only(url).await?))
    } else {
        Err(StoreError::Open(format!(
            "`{}` is not a supported store URL; use sqlite://PATH or postgres://…",
            redact_url(url)
        )))
    }
}

async fn open_with(url: &str, create: bool) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::open_with(url, create).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // A server-side database is never created by opening it, so `create` has no effect.
        let _ = create;
        Ok(Arc::new(PgStore::open(url).await?))
    } else {
        Err(StoreError::Open(format!(
            "`{}` is not a supported store URL; use sqlite://PATH or postgres://…",
            redact_url(url)
        )))
    }
}

/// Wall-clock Unix milliseconds, for the store's own records (the legacy seal's time).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod contract_tests;
