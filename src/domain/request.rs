//! The request state machine. Pure: a state, an event and the time in, the next state or a
//! refusal out. The store applies a transition only if the state it read is still current, so two
//! replicas (or two clicks) cannot both decide.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Posted in the channel, waiting for a second admin.
    PendingApproval,
    /// Approved; the runner will pick it up.
    Approved,
    Running,
    /// The canary (`policy.canary_users`) is done: the run waits for an approver's Continue.
    /// It is state in the store, so it survives a restart; it never continues by itself and
    /// never expires, but it may be cancelled.
    Paused,
    Completed,
    Denied,
    Expired,
    Cancelled,
    /// The run was stopped by Okta (token rejected, permission missing).
    Stopped,
    /// `--dry-run`: resolved and shown, never run.
    DryRun,
}

impl State {
    pub fn code(self) -> &'static str {
        match self {
            Self::PendingApproval => "pending_approval",
            Self::Approved => "approved",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Stopped => "stopped",
            Self::DryRun => "dry_run",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "pending_approval" => Self::PendingApproval,
            "approved" => Self::Approved,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "completed" => Self::Completed,
            "denied" => Self::Denied,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            "stopped" => Self::Stopped,
            "dry_run" => Self::DryRun,
            _ => return None,
        })
    }

    /// `from_code` as a `Coded` parse: the store's boundary reports what it could not map.
    fn parse(code: &str) -> Result<Self, super::kinds::UnknownCode> {
        Self::from_code(code).ok_or_else(|| super::kinds::UnknownCode {
            kind: "request state",
            code: code.to_string(),
        })
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed
                | Self::Denied
                | Self::Expired
                | Self::Cancelled
                | Self::Stopped
                | Self::DryRun
        )
    }
}

impl super::kinds::Coded for State {
    fn code(self) -> &'static str {
        State::code(self)
    }
    fn parse(code: &str) -> Result<Self, super::kinds::UnknownCode> {
        State::parse(code)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PendingApproval => "waiting for approval",
            Self::Approved => "approved, starting",
            Self::Running => "running",
            Self::Paused => "paused after the canary",
            Self::Completed => "completed",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Stopped => "stopped by Okta",
            Self::DryRun => "dry run",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Approve,
    Deny,
    Expire,
    Cancel,
    Start,
    Finish,
    Stop,
    /// The canary's users are done: the run waits for a Continue.
    Pause,
    /// An approver checked the canary: back to `Approved`, so the runner takes the run up like
    /// any approved one and carries on from the journal (only users still pending).
    Continue,
}

/// Why an event does not apply. Displayed to people, so each is a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("it has expired; ask the requester to make a new request")]
    Expired,
    #[error("it was already {0}")]
    AlreadyDecided(State),
    #[error("it is {0}, so it cannot be cancelled")]
    NotCancellable(State),
    #[error("it is {0}")]
    Invalid(State),
}

/// The next state after `event` at `now_ms`, for a request that expires at `expires_at_ms`.
pub fn transition(
    state: State,
    event: Event,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<State, Refusal> {
    use Event as E;
    use State as S;
    let expired = now_ms >= expires_at_ms;
    match (state, event) {
        (S::PendingApproval, E::Approve | E::Deny) if expired => Err(Refusal::Expired),
        (S::PendingApproval, E::Approve) => Ok(S::Approved),
        (S::PendingApproval, E::Deny) => Ok(S::Denied),
        (S::PendingApproval, E::Expire) if expired => Ok(S::Expired),
        (S::PendingApproval | S::Approved | S::Running | S::Paused, E::Cancel) => Ok(S::Cancelled),
        (s, E::Cancel) => Err(Refusal::NotCancellable(s)),
        (S::Expired, E::Approve | E::Deny) => Err(Refusal::Expired),
        (s, E::Approve | E::Deny) => Err(Refusal::AlreadyDecided(s)),
        (S::Approved | S::Running, E::Start) => Ok(S::Running),
        (S::Running, E::Finish) => Ok(S::Completed),
        (S::Running | S::Approved, E::Stop) => Ok(S::Stopped),
        (S::Running, E::Pause) => Ok(S::Paused),
        (S::Paused, E::Continue) => Ok(S::Approved),
        (s, _) => Err(Refusal::Invalid(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [State; 10] = [
        State::PendingApproval,
        State::Approved,
        State::Running,
        State::Paused,
        State::Completed,
        State::Denied,
        State::Expired,
        State::Cancelled,
        State::Stopped,
        State::DryRun,
    ];
    const EVENTS: [Event; 9] = [
        Event::Approve,
        Event::Deny,
        Event::Expire,
        Event::Cancel,
        Event::Start,
        Event::Finish,
        Event::Stop,
        Event::Pause,
        Event::Continue,
    ];

    #[test]
    fn codes_round_trip() {
        for s in ALL {
            assert_eq!(State::from_code(s.code()), Some(s));
        }
        assert_eq!(State::from_code("nope"), None);
    }

    #[test]
    fn approval_before_expiry_and_not_after() {
        assert_eq!(
            transition(State::PendingApproval, Event::Approve, 10, 11),
            Ok(State::Approved)
        );
        assert_eq!(
            transition(State::PendingApproval, Event::Approve, 11, 11),
            Err(Refusal::Expired)
        );
        assert!(transition(State::PendingApproval, Event::Expire, 10, 11).is_err());
        assert_eq!(
            transition(State::PendingApproval, Event::Expire, 11, 11),
            Ok(State::Expired)
        );
    }

    #[test]
    fn a_second_decision_is_refused() {
        for s in [
            State::Approved,
            State::Denied,
            State::Running,
            State::Completed,
        ] {
            assert_eq!(
                transition(s, Event::Approve, 0, 100),
                Err(Refusal::AlreadyDecided(s))
            );
        }
    }

    #[test]
    fn a_canary_pauses_a_running_run_and_continue_hands_it_back_to_the_runner() {
        assert_eq!(
            transition(State::Running, Event::Pause, 0, 1),
            Ok(State::Paused)
        );
        assert_eq!(
            transition(State::Paused, Event::Continue, 5, 1),
            Ok(State::Approved)
        );
        assert_eq!(
            transition(State::Paused, Event::Cancel, 5, 1),
            Ok(State::Cancelled)
        );
        assert_eq!(
            transition(State::Paused, Event::Approve, 0, 100),
            Err(Refusal::AlreadyDecided(State::Paused))
        );
        assert_eq!(
            transition(State::Approved, Event::Continue, 0, 100),
            Err(Refusal::Invalid(State::Approved))
        );
        assert!(!State::Paused.is_final());
    }

    proptest! {
        #[test]
        fn final_states_never_move(si in 0usize..10, ei in 0usize..9, now in 0i64..1000, exp in 0i64..1000) {
            let s = ALL[si];
            if s.is_final() {
                prop_assert!(transition(s, EVENTS[ei], now, exp).is_err());
            }
        }

        #[test]
        fn only_a_pending_request_can_become_approved(si in 0usize..10, now in 0i64..1000, exp in 0i64..1000) {
            let s = ALL[si];
            let r = transition(s, Event::Approve, now, exp);
            prop_assert_eq!(r.is_ok(), s == State::PendingApproval && now < exp);
        }

        /// Only a running run pauses, only a paused one continues, and the approval's expiry
        /// plays no part in either: a paused run waits for a person, however long.
        #[test]
        fn pause_and_continue_only_from_their_one_state(si in 0usize..10, now in 0i64..1000, exp in 0i64..1000) {
            let s = ALL[si];
            prop_assert_eq!(transition(s, Event::Pause, now, exp).ok(), (s == State::Running).then_some(State::Paused));
            prop_assert_eq!(transition(s, Event::Continue, now, exp).ok(), (s == State::Paused).then_some(State::Approved));
        }

        /// Whatever happens to a paused run, it never reaches `Completed` without a Continue
        /// first, and it can always be cancelled.
        #[test]
        fn a_paused_run_needs_a_continue_and_can_be_cancelled(ei in 0usize..9, now in 0i64..1000, exp in 0i64..1000) {
            let e = EVENTS[ei];
            let r = transition(State::Paused, e, now, exp);
            match e {
                Event::Continue => prop_assert_eq!(r, Ok(State::Approved)),
                Event::Cancel => prop_assert_eq!(r, Ok(State::Cancelled)),
                _ => prop_assert!(r.is_err()),
            }
        }
    }
}
