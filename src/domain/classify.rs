//! Which resolved users a run may reset, and why the others are skipped.

use std::fmt;

/// The verdict on one resolved target. Only `Reset` targets are ever sent to Okta.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Classification {
    Reset,
    /// A protected account: never reset, whatever its provider or status. The reason says why
    /// (an Okta admin role, a protected group, a protected login).
    SkipProtected(String),
    /// `ACTIVE_DIRECTORY` or `LDAP`: Okta's console already bulk-resets these, and with delegated
    /// authentication the directory password keeps working.
    SkipDirectory,
    /// `FEDERATION` or `SOCIAL`: a reset would convert the user into an Okta-password user.
    SkipFederated,
    /// A status Okta refuses to reset (STAGED, PROVISIONED, SUSPENDED, DEPROVISIONED, …).
    SkipStatus(String),
    /// A provider this bot does not know; never guessed.
    SkipUnknownProvider(String),
    /// Listed again (in the same group, a second target spec, or a CSV).
    SkipDuplicate,
    /// Asked for, but Okta has no such user.
    SkipNotFound,
}

crate::domain::kinds::coded_enum! {
    /// A target's classification as stored: the verdict without its reason (which is the
    /// target's `detail`), plus the two kinds of target that name no usable Okta user.
    pub enum TargetClass ("classification") {
        Reset = "reset",
        SkipProtected = "skip_protected",
        SkipDirectory = "skip_directory",
        SkipFederated = "skip_federated",
        SkipStatus = "skip_status",
        SkipProvider = "skip_provider",
        SkipDuplicate = "skip_duplicate",
        SkipNotFound = "skip_not_found",
        /// A row of an uploaded file that names no user (bad id, empty…): see `csv_input`.
        SkipBadRow = "skip_bad_row",
        /// A user whose entry in Okta's answer lacked a field or had one of the wrong type.
        SkipMalformed = "skip_malformed",
    }
}

impl TargetClass {
    /// Short group label for counts ("wrong status", not each status).
    pub fn label(self) -> &'static str {
        match self {
            Self::Reset => "will reset",
            Self::SkipProtected => "skipped: protected",
            Self::SkipDirectory => "skipped: AD/LDAP-managed",
            Self::SkipFederated => "skipped: federated/social",
            Self::SkipStatus => "skipped: wrong status",
            Self::SkipProvider => "skipped: unknown provider",
            Self::SkipDuplicate => "skipped: duplicate",
            Self::SkipNotFound => "skipped: not found",
            Self::SkipBadRow => "skipped: unusable row",
            Self::SkipMalformed => "skipped: unreadable in Okta",
        }
    }

    pub fn is_reset(self) -> bool {
        self == Self::Reset
    }
}

/// The reason given for a user skipped at run time because Okta no longer shows them as
/// resettable (status, provider, an admin role, a protected group): the outcome reason starts
/// with it, followed by what changed.
pub const CHANGED_SINCE_APPROVAL: &str = "changed since approval";

pub const RESETTABLE_STATUSES: [&str; 4] = ["ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"];

/// Classifies a user from its credential provider type and status.
pub fn classify(provider: &str, status: &str) -> Classification {
    match provider {
        "OKTA" | "IMPORT" => {
            if RESETTABLE_STATUSES.contains(&status) {
                Classification::Reset
            } else {
                Classification::SkipStatus(status.to_string())
            }
        }
        "ACTIVE_DIRECTORY" | "LDAP" => Classification::SkipDirectory,
        "FEDERATION" | "SOCIAL" => Classification::SkipFederated,
        other => Classification::SkipUnknownProvider(other.to_string()),
    }
}

impl Classification {
    /// What is stored of this verdict: its class (the reason is the target's `detail`).
    pub fn class(&self) -> TargetClass {
        match self {
            Self::Reset => TargetClass::Reset,
            Self::SkipProtected(_) => TargetClass::SkipProtected,
            Self::SkipDirectory => TargetClass::SkipDirectory,
            Self::SkipFederated => TargetClass::SkipFederated,
            Self::SkipStatus(_) => TargetClass::SkipStatus,
            Self::SkipUnknownProvider(_) => TargetClass::SkipProvider,
            Self::SkipDuplicate => TargetClass::SkipDuplicate,
            Self::SkipNotFound => TargetClass::SkipNotFound,
        }
    }

    /// Stable code stored in the database and used in results.
    pub fn code(&self) -> &'static str {
        self.class().code()
    }

    pub fn is_reset(&self) -> bool {
        matches!(self, Self::Reset)
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reset => f.write_str("will reset"),
            Self::SkipProtected(why) => write!(f, "protected: {why}"),
            Self::SkipDirectory => f.write_str("AD/LDAP-managed: reset it in the directory"),
            Self::SkipFederated => {
                f.write_str("federated/social login: a reset would convert the account")
            }
            Self::SkipStatus(s) => write!(f, "status {s} cannot be reset"),
            Self::SkipUnknownProvider(p) => write!(f, "unknown credential provider {p}"),
            Self::SkipDuplicate => f.write_str("listed more than once"),
            Self::SkipNotFound => f.write_str("not found in Okta"),
        }
    }
}

/// Why an account is protected, or `None`. Checked before anything else: a protected account is
/// shown as protected whatever its provider or status.
pub fn protection(
    is_admin: bool,
    protected_group: Option<&str>,
    login_listed: bool,
) -> Option<Classification> {
    if is_admin {
        return Some(Classification::SkipProtected(
            "holds an Okta admin role".into(),
        ));
    }
    if let Some(g) = protected_group {
        return Some(Classification::SkipProtected(format!(
            "member of the protected group {g}"
        )));
    }
    login_listed.then(|| Classification::SkipProtected("listed in policy.protected_logins".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_accounts_are_labelled_and_explained() {
        let p = protection(true, Some("it-admins"), true).unwrap();
        assert_eq!(p.code(), "skip_protected");
        assert_eq!(p.class().label(), "skipped: protected");
        assert_eq!(p.to_string(), "protected: holds an Okta admin role");
        assert_eq!(
            protection(false, Some("it-admins"), false)
                .unwrap()
                .to_string(),
            "protected: member of the protected group it-admins"
        );
        assert_eq!(
            protection(false, None, true).unwrap().to_string(),
            "protected: listed in policy.protected_logins"
        );
        assert_eq!(protection(false, None, false), None);
        assert!(!p.is_reset());
    }

    #[test]
    fn okta_and_import_users_in_resettable_statuses_are_reset() {
        for p in ["OKTA", "IMPORT"] {
            for s in RESETTABLE_STATUSES {
                assert_eq!(classify(p, s), Classification::Reset, "{p} {s}");
            }
            for s in ["STAGED", "PROVISIONED", "SUSPENDED", "DEPROVISIONED"] {
                assert_eq!(classify(p, s), Classification::SkipStatus(s.into()));
            }
        }
    }

    #[test]
    fn directory_and_federated_users_are_never_reset_whatever_the_status() {
        for s in RESETTABLE_STATUSES {
            assert_eq!(
                classify("ACTIVE_DIRECTORY", s),
                Classification::SkipDirectory
            );
            assert_eq!(classify("LDAP", s), Classification::SkipDirectory);
            assert_eq!(classify("FEDERATION", s), Classification::SkipFederated);
            assert_eq!(classify("SOCIAL", s), Classification::SkipFederated);
            assert_eq!(
                classify("", s),
                Classification::SkipUnknownProvider(String::new())
            );
        }
    }
}
