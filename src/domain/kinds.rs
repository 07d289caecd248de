//! The closed sets of words a request's records carry — per-user outcomes, the `--contain`
//! step, decisions, sign-offs, notices, Okta confirmations — as enums. Each has the exact code it
//! is stored under (`code()`), and a fallible `parse`: the store converts at its boundary, so a
//! word it cannot map is an error there, never a silent mismatch in a comparison elsewhere.

use std::fmt;

/// A stored code that names no value of its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCode {
    /// What kind of value was expected ("outcome", "notice state", …).
    pub kind: &'static str,
    pub code: String,
}

impl fmt::Display for UnknownCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.kind, self.code)
    }
}

impl std::error::Error for UnknownCode {}

/// A value stored as one of a closed set of codes.
pub trait Coded: Copy + Sized {
    fn code(self) -> &'static str;
    fn parse(code: &str) -> Result<Self, UnknownCode>;
}

/// An enum of unit variants, each with its stored code: `code()`, `parse`, `ALL`, and
/// `Display` as the code.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code this value is stored under (stable: existing data is read back by it).
            pub fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            pub fn parse(code: &str) -> Result<Self, $crate::domain::kinds::UnknownCode> {
                match code {
                    $( $code => Ok($name::$variant), )+
                    other => Err($crate::domain::kinds::UnknownCode {
                        kind: $kind,
                        code: other.to_string(),
                    }),
                }
            }
        }

        impl $crate::domain::kinds::Coded for $name {
            fn code(self) -> &'static str {
                $name::code(self)
            }
            fn parse(code: &str) -> Result<Self, $crate::domain::kinds::UnknownCode> {
                $name::parse(code)
            }
        }

        /// Serialized as its code (audit details, JSON exports).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use coded_enum;

coded_enum! {
    /// One user's outcome in a run's journal.
    pub enum Outcome ("outcome") {
        /// Not attempted yet (every target to reset starts here; skipped targets start skipped).
        Pending = "pending",
        /// Journalled just before the reset call: its fate is unknown until the outcome follows.
        InFlight = "in_flight",
        Reset = "reset",
        Failed = "failed",
        Skipped = "skipped",
    }
}

coded_enum! {
    /// The `--contain` step of one reset user: whether their sessions were ended.
    pub enum Sessions ("sessions state") {
        Ended = "ended",
        NotEnded = "not_ended",
    }
}

coded_enum! {
    /// The decision row of a request: what moved it out of `pending_approval` (or, for a cancel,
    /// who cancelled it while it was pending).
    pub enum DecisionKind ("decision") {
        Approved = "approved",
        Denied = "denied",
        Cancelled = "cancelled",
        Expired = "expired",
    }
}

coded_enum! {
    /// A sign-off beyond the decision row — an approval, or the Continue after a canary pause —
    /// and what an Okta confirmation confirms.
    pub enum SignOffKind ("sign-off kind") {
        Approve = "approve",
        Continue = "continue",
    }
}

coded_enum! {
    /// A reset user's DM: `sending` (journalled before the first Slack call) → `notified` |
    /// `not_notified`.
    pub enum NoticeState ("notice state") {
        Sending = "sending",
        Notified = "notified",
        NotNotified = "not_notified",
    }
}

coded_enum! {
    /// An Okta confirmation: issued → started → checking → confirmed | failed (push: started →
    /// confirmed | failed); a newer click's link supersedes an older one.
    pub enum StepUpState ("step-up state") {
        Issued = "issued",
        Started = "started",
        Checking = "checking",
        Confirmed = "confirmed",
        Failed = "failed",
        Superseded = "superseded",
    }
}

impl Outcome {
    /// Whether the run has not settled this user yet (not attempted, or its call's fate unknown).
    pub fn is_open(self) -> bool {
        matches!(self, Self::Pending | Self::InFlight)
    }
}

impl StepUpState {
    /// Whether a confirmation in this state may still be completed (if not expired).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Issued | Self::Started | Self::Checking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_value() {
        fn round_trip<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            code: fn(T) -> &'static str,
            parse: fn(&str) -> Result<T, UnknownCode>,
        ) {
            for v in all {
                assert_eq!(parse(code(*v)), Ok(*v));
            }
        }
        round_trip(Outcome::ALL, Outcome::code, Outcome::parse);
        round_trip(Sessions::ALL, Sessions::code, Sessions::parse);
        round_trip(DecisionKind::ALL, DecisionKind::code, DecisionKind::parse);
        round_trip(SignOffKind::ALL, SignOffKind::code, SignOffKind::parse);
        round_trip(NoticeState::ALL, NoticeState::code, NoticeState::parse);
        round_trip(StepUpState::ALL, StepUpState::code, StepUpState::parse);
    }

    #[test]
    fn stored_codes_are_the_ones_existing_data_holds() {
        let codes = |all: &[Outcome]| all.iter().map(|o| o.code()).collect::<Vec<_>>();
        assert_eq!(
            codes(Outcome::ALL),
            ["pending", "in_flight", "reset", "failed", "skipped"]
        );
        assert_eq!(Sessions::NotEnded.code(), "not_ended");
        assert_eq!(NoticeState::NotNotified.code(), "not_notified");
        assert_eq!(StepUpState::Superseded.code(), "superseded");
        assert_eq!(DecisionKind::Cancelled.code(), "cancelled");
        assert_eq!(SignOffKind::Continue.code(), "continue");
    }

    #[test]
    fn an_unknown_code_is_refused_with_its_kind() {
        let e = Outcome::parse("RESET").unwrap_err();
        assert_eq!(e.to_string(), "unknown outcome `RESET`");
        assert!(NoticeState::parse("").is_err());
    }
}
