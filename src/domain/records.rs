//! What the application keeps about a request — the request, its decision and sign-offs, its
//! frozen targets with their outcomes, DMs to reset users, Okta confirmations, audit events — as
//! plain data with the domain's types and id newtypes. The store reads and writes these
//! (`crate::store` re-exports them) and converts each coded column and id once at its boundary
//! (`store::codec`); the rest of the application, rendering included, takes them from here.

use super::classify::TargetClass;
use super::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};
use super::kinds::{DecisionKind, NoticeState, Outcome, Sessions, SignOffKind, StepUpState};
use super::request::State;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub id: RequestId,
    pub team_id: SlackTeamId,
    pub channel_id: SlackChannelId,
    pub requester: SlackUserId,
    pub command_text: String,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub revoke_sessions: bool,
    /// `--contain`: after each reset, also end every session and OAuth token and forget
    /// remembered devices (`DELETE /api/v1/users/{id}/sessions`). Implies `revoke_sessions`.
    pub contain: bool,
    pub state: State,
    pub digest: String,
    pub resolved_count: i64,
    pub reset_count: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub id: RequestId,
    pub team_id: SlackTeamId,
    pub channel_id: SlackChannelId,
    pub requester: SlackUserId,
    pub command_text: String,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub revoke_sessions: bool,
    /// `--contain`: after each reset, also end every session and OAuth token and forget
    /// remembered devices (`DELETE /api/v1/users/{id}/sessions`). Implies `revoke_sessions`.
    pub contain: bool,
    pub state: State,
    pub digest: String,
    pub resolved_count: i64,
    pub reset_count: i64,
    pub root_ts: Option<String>,
    pub progress_ts: Option<String>,
    pub summary_ts: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub stop_reason: Option<String>,
    /// Who cancelled the request and when (`/okta-reset cancel`), kept apart from `decision`:
    /// a cancel after approval leaves the approval as the decision. `None` for a request
    /// withdrawn by the bot, and for cancels stored before this was recorded.
    pub cancelled_by: Option<SlackUserId>,
    pub cancelled_at: Option<i64>,
    /// The message carrying a paused run's Continue button: a Continue click is taken only there.
    pub continue_ts: Option<String>,
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub decision: DecisionKind,
    pub actor: SlackUserId,
    pub decided_at: i64,
}

/// A sign-off beyond the decision row: an approval or the Continue after a canary pause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOff {
    pub kind: SignOffKind,
    pub actor: SlackUserId,
    pub at: i64,
}

/// One resolved target of a request's frozen snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTarget {
    pub okta_id: Option<String>,
    pub login: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub provider: Option<String>,
    pub source: String,
    pub classification: TargetClass,
    pub detail: String,
}

impl Default for NewTarget {
    /// An empty target that is never reset: whoever builds one names its classification.
    fn default() -> Self {
        Self {
            okta_id: None,
            login: None,
            email: None,
            display_name: None,
            status: None,
            provider: None,
            source: String::new(),
            classification: TargetClass::SkipNotFound,
            detail: String::new(),
        }
    }
}

impl NewTarget {
    /// The outcome a target starts its journal with: a target to reset waits (`pending`),
    /// any other is `skipped` from the start.
    pub fn initial_outcome(&self) -> Outcome {
        if self.classification.is_reset() {
            Outcome::Pending
        } else {
            Outcome::Skipped
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRecord {
    pub seq: i64,
    pub target: NewTarget,
    pub outcome: Outcome,
    pub outcome_reason: Option<String>,
    pub okta_request_id: Option<String>,
    pub outcome_at: Option<i64>,
    /// `--contain` only: whether the user's sessions were ended after the reset; `None` while
    /// not yet attempted.
    pub sessions: Option<Sessions>,
    /// Why the sessions could not be ended (with `Sessions::NotEnded`).
    pub sessions_reason: Option<String>,
}

/// One reset user's notice (`policy.notify_users`). `state` moves `sending` → `notified` |
/// `not_notified`; `sending` is written before the first Slack call for them, so a restart never
/// DMs anyone twice. `slack_user` and `dm_channel` stay strings: they are what Slack's lookup
/// returned, written unchecked, so reading them strictly would turn Slack's answer into `Corrupt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    pub request_id: RequestId,
    pub seq: i64,
    pub state: NoticeState,
    pub reason: Option<String>,
    pub slack_user: Option<String>,
    pub dm_channel: Option<String>,
    pub dm_ts: Option<String>,
    pub reported_at: Option<i64>,
}

/// How a notice ended (`Store::settle_notice`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeOutcome<'a> {
    pub state: NoticeState,
    pub reason: Option<&'a str>,
    pub slack_user: Option<&'a str>,
    pub dm_channel: Option<&'a str>,
    pub dm_ts: Option<&'a str>,
}

/// One Okta confirmation of an Approve or a Continue (`kind`), see `StepUpState`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpRecord {
    pub token_hash: String,
    pub request_id: RequestId,
    pub kind: SignOffKind,
    pub method: String,
    pub digest: String,
    pub slack_user: SlackUserId,
    pub channel_id: SlackChannelId,
    pub okta_user: String,
    pub okta_login: String,
    pub clicked_at: i64,
    pub expires_at: i64,
    pub state: StepUpState,
    pub oidc_state_hash: Option<String>,
    pub nonce_hash: Option<String>,
    pub pkce_verifier: Option<String>,
    pub amr: Option<String>,
    pub auth_time: Option<i64>,
}

/// Defined with the chain that hashes it.
pub use super::audit_chain::AuditEvent;

/// An audit event as stored: its place in storage (`id`) and in the hash chain (`seq`), and the
/// chain's hashes. `seq` and the hashes are `None` only if someone wrote the row past the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub seq: Option<i64>,
    pub event: AuditEvent,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}
