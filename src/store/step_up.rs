//! Pending Okta confirmations (`step_ups`): how a confirmation is found and what claiming it
//! did; the record is `domain::records::StepUpRecord`, the SQL is `sql/step_ups.rs`. See
//! `service::step_up`.

use crate::store::StepUpRecord;

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
