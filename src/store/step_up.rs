//! Pending Okta confirmations (`step_ups`): the types; the SQL is `sql/step_ups.rs`. See
//! `service::step_up`.

/// One confirmation of an Approve or a Continue. `state` moves issued → started → checking →
/// confirmed | failed (push: started → confirmed | failed); a newer click's link supersedes an
/// older one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpRecord {
    pub token_hash: String,
    pub request_id: String,
    pub kind: String,
    pub method: String,
    pub digest: String,
    pub slack_user: String,
    pub channel_id: String,
    pub okta_user: String,
    pub okta_login: String,
    pub clicked_at: i64,
    pub expires_at: i64,
    pub state: String,
    pub oidc_state_hash: Option<String>,
    pub nonce_hash: Option<String>,
    pub pkce_verifier: Option<String>,
    pub amr: Option<String>,
    pub auth_time: Option<i64>,
}

pub mod step_up_state {
    pub const ISSUED: &str = "issued";
    pub const STARTED: &str = "started";
    pub const CHECKING: &str = "checking";
    pub const CONFIRMED: &str = "confirmed";
    pub const FAILED: &str = "failed";
    pub const SUPERSEDED: &str = "superseded";
}

/// Which column finds a confirmation.
#[derive(Debug, Clone, Copy)]
pub enum StepUpKey<'a> {
    Token(&'a str),
    OidcState(&'a str),
}

/// What `claim_step_up` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepUpClaim {
    /// This call moved it; the record as it is now.
    Claimed(StepUpRecord),
    /// It exists but was not in the expected state (used, replayed, superseded, failed).
    Spent(StepUpRecord),
    Unknown,
}
