//! Calls whose answer was lost (the replica died between "in flight" and the outcome). Their fate
//! is read back from Okta rather than guessed: a user Okta shows in RECOVERY since the run began
//! was reset; any other is reset again; if Okta cannot tell, the user is reported, not repeated.

use crate::service::Service;
use crate::store::{Outcome, RequestRecord, TargetRecord};

/// Okta's and our clocks may disagree: a status change this long before the run began still
/// counts as this run's reset. Erring this way avoids a second reset email, never loses one.
const CLOCK_MARGIN_MS: i64 = 5 * 60 * 1000;

/// Outcome, reason and whether it counts as done.
pub async fn settle(
    svc: &Service,
    r: &RequestRecord,
    t: &TargetRecord,
) -> (Outcome, Option<String>) {
    let Some(okta_id) = t.target.okta_id.as_deref() else {
        return (Outcome::Failed, Some("no Okta id".into()));
    };
    let started = r.started_at.unwrap_or(r.created_at);
    match svc.okta.get_user(okta_id).await {
        Ok(Some(u)) if u.status == "RECOVERY"
            && u.status_changed_ms().is_some_and(|c| c >= started - CLOCK_MARGIN_MS) =>
        {
            (
                Outcome::Reset,
                Some("confirmed in Okta after the bot restarted (status RECOVERY)".into()),
            )
        }
        Ok(Some(_)) => (Outcome::Pending, None),
        Ok(None) => (Outcome::Failed, Some("no longer found in Okta".into())),
        Err(e) => (
            Outcome::Failed,
            Some(format!(
                "interrupted while calling Okta, and Okta could not be asked whether it went through ({e}): check this user before retrying"
            )),
        ),
    }
}

/// After a reset call timed out: has Okta applied a reset since `since_ms`? An error when Okta
/// cannot be asked or its answer cannot be used (a field missing or of the wrong type).
pub async fn applied_since(
    svc: &Service,
    okta_id: &str,
    since_ms: i64,
) -> Result<bool, crate::okta::OktaError> {
    match svc.okta.get_user(okta_id).await? {
        Some(u) => Ok(u.status == "RECOVERY"
            && u.status_changed_ms()
                .is_some_and(|c| c >= since_ms - CLOCK_MARGIN_MS)),
        None => Ok(false),
    }
}
