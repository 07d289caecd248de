//! The words a person sees when a request cannot be resolved, and when the protected accounts
//! cannot be read at run time: Slack text, every value from a person or from Okta escaped. The
//! Okta adapter returns data and errors; only this layer decides how they read in Slack.

use crate::okta::entry::Malformed;
use crate::okta::protected::ProtectionError;
use crate::okta::OktaError;
use crate::slack::escape::{code, escape};

/// Why a request could not be resolved. Shown to the requester only; values are escaped.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("No Okta group is named {}. Check the spelling, or give the group id: `group:00g…`.", code(.0))]
    GroupNotFound(String),
    #[error("The group name {} matches {} groups in Okta: {}. Give the id of the one you mean, e.g. {}.", code(.name), .ids.len(), .ids.iter().map(|i| code(i)).collect::<Vec<_>>().join(", "), code(&format!("group:{}", .ids[0])))]
    AmbiguousGroup { name: String, ids: Vec<String> },
    #[error("No Okta group has the id {}.", code(.0))]
    GroupIdNotFound(String),
    #[error("No Okta user matches {}. Check the login or email.", code(.0))]
    UserNotFound(String),
    #[error("{} resolved to a different account ({}). Give the full login.", code(.asked), code(.found))]
    UserMismatch { asked: String, found: String },
    #[error("{} matches {count} Okta users. Give the login or the user id (`00u…`) instead.", code(.asked))]
    AmbiguousUser { asked: String, count: usize },
    #[error("This request reaches {}{count} users, more than the limit of {limit}. Split it, or ask an administrator to raise `policy.max_targets`.", if *.cut_short { "at least " } else { "" })]
    TooMany {
        count: usize,
        limit: usize,
        /// Reading stopped once past the limit: there are more than `count`.
        cut_short: bool,
    },
    #[error("Nothing to reset: {resolved} user(s) resolved, all skipped ({breakdown}).")]
    NothingToReset { resolved: usize, breakdown: String },
    #[error("Okta could not say who holds admin roles ({}), so protected accounts cannot be kept out. Nothing was changed; the service app needs the `okta.roles.read` scope (an API token, an admin allowed to view roles).", escape(&.0.to_string()))]
    AdminsUnknown(OktaError),
    #[error("The protected group {} in `policy.protected_groups` is not in Okta, so its members cannot be kept out. Nothing was changed; ask an administrator to fix the setting.", code(.0))]
    ProtectedGroupMissing(String),
    #[error("The protected group {} in `policy.protected_groups` has a member Okta's answer does not identify ({}), so its members cannot all be kept out. Nothing was changed; try again shortly.", code(.group), escape(.why))]
    ProtectedMemberUnreadable { group: String, why: String },
    /// A user named on its own (`user:…`, a file row) whose entry could not be used; a request
    /// turns it into a skipped target rather than a refusal.
    #[error("{}", escape(&.0.reason()))]
    Malformed(Malformed),
    /// Okta answered 400 to a `search:` the bot's own check let through (an attribute the org
    /// does not have, a value Okta cannot compare): only a different search can work, so the
    /// answer quotes Okta and never says "try again".
    #[error("Okta refused the search {}: {} ({}). Nothing was changed; correct the search and ask again (`/okta-reset help` lists what a search may use).", code(.search), escape(.summary), escape(.error_code))]
    SearchRefused {
        search: String,
        error_code: String,
        summary: String,
    },
    #[error("Okta could not be asked: {}. Nothing was changed; {}", escape(&.0.to_string()), next_step(.0))]
    Okta(#[from] OktaError),
    /// The detail goes to the log, not to Slack (database errors are internals).
    #[error(
        "The bot's store could not be written. Nothing was posted or changed; try again shortly."
    )]
    Store(String),
    #[error("Nothing to reset from {}: {breakdown}. {reasons}", code(.file))]
    NothingToResetInFile {
        file: String,
        breakdown: String,
        /// The first unusable rows, already escaped.
        reasons: String,
    },
}

/// What the requester can do about an Okta failure: wait it out, or (when Okta refused the
/// bot's credentials or permissions, which no retry mends) have an administrator fix them.
fn next_step(e: &OktaError) -> &'static str {
    if e.is_systemic() {
        "asking again will not help until an administrator fixes the bot's Okta credentials or permissions (`okta-reset check` says what is wrong)."
    } else {
        "try again shortly."
    }
}

/// Intake's words for the same failures (the request is refused, nothing stored).
impl From<ProtectionError> for ResolveError {
    fn from(e: ProtectionError) -> Self {
        match e {
            // Only a refusal of the roles call is about the roles scope; a refused token (e.g.
            // invalid_client) says what it means itself.
            ProtectionError::AdminsUnknown(e @ OktaError::Forbidden { .. }) => {
                Self::AdminsUnknown(e)
            }
            ProtectionError::AdminsUnknown(e) => Self::Okta(e),
            ProtectionError::GroupMissing(g) => Self::ProtectedGroupMissing(g),
            ProtectionError::MemberUnreadable { group, why } => {
                Self::ProtectedMemberUnreadable { group, why }
            }
            ProtectionError::Okta(e) => Self::Okta(e),
        }
    }
}

/// Why the protected accounts could not be read, as said in a run's thread and its audit event
/// (values escaped). Every case means: nobody may be reset until they can.
pub fn protection_text(e: &ProtectionError) -> String {
    match e {
        ProtectionError::AdminsUnknown(o) => format!(
            "Okta could not say who holds admin roles ({})",
            escape(&o.to_string())
        ),
        ProtectionError::GroupMissing(g) => format!(
            "the protected group {} in `policy.protected_groups` is not in Okta",
            code(g)
        ),
        ProtectionError::MemberUnreadable { group, why } => format!(
            "the protected group {} has a member Okta's answer does not identify ({})",
            code(group),
            escape(why)
        ),
        ProtectionError::Okta(o) => format!("Okta could not be asked ({})", escape(&o.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_and_store_details_never_reach_slack_unescaped_or_raw() {
        let e = ResolveError::Okta(OktaError::BadRequest {
            code: "E0000031".into(),
            summary: "<!channel> & <@U1>".into(),
        });
        let text = e.to_string();
        assert!(
            text.contains("&lt;!channel&gt; &amp; &lt;@U1&gt;"),
            "{text}"
        );
        assert!(!text.contains("<!channel>"));
        let s = ResolveError::Store("error returned from database: relation \"x\"".into());
        assert!(
            !s.to_string().contains("relation"),
            "database internals stay in the log"
        );
    }

    #[test]
    fn a_protected_group_named_in_a_run_thread_is_escaped() {
        assert!(
            protection_text(&ProtectionError::GroupMissing("<!here>".into()))
                .contains("&lt;!here&gt;")
        );
    }
}
