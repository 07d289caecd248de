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
            "completed" => Self::Completed,
            "denied" => Self::Denied,
            "expired" => Self::Expired,
            "cancelled" => Self::Cancelled,
            "stopped" => Self::Stopped,
            "dry_run" => Self::DryRun,
            _ => return None,
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

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PendingApproval => "waiting for approval",
            Self::Approved => "approved, starting",
            Self::Running => "running",
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
        (S::PendingApproval | S::Approved | S::Running, E::Cancel) => Ok(S::Cancelled),
        (s, E::Cancel) => Err(Refusal::NotCancellable(s)),
        (S::Expired, E::Approve | E::Deny) => Err(Refusal::Expired),
        (s, E::Approve | E::Deny) => Err(Refusal::AlreadyDecided(s)),
        (S::Approved | S::Running, E::Start) => Ok(S::Running),
        (S::Running, E::Finish) => Ok(S::Completed),
        (S::Running | S::Approved, E::Stop) => Ok(S::Stopped),
        (s, _) => Err(Refusal::Invalid(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [State; 9] = [
        State::PendingApproval,
        State::Approved,
        State::Running,
        State::Completed,
        State::Denied,
        State::Expired,
        State::Cancelled,
        State::Stopped,
        State::DryRun,
    ];
    const EVENTS: [Event; 7] = [
        Event::Approve,
        Event::Deny,
        Event::Expire,
        Event::Cancel,
        Event::Start,
        Event::Finish,
        Event::Stop,
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

    proptest! {
        #[test]
        fn final_states_never_move(si in 0usize..9, ei in 0usize..7, now in 0i64..1000, exp in 0i64..1000) {
            let s = ALL[si];
            if s.is_final() {
                prop_assert!(transition(s, EVENTS[ei], now, exp).is_err());
            }
        }

        #[test]
        fn only_a_pending_request_can_become_approved(si in 0usize..9, now in 0i64..1000, exp in 0i64..1000) {
            let s = ALL[si];
            let r = transition(s, Event::Approve, now, exp);
            prop_assert_eq!(r.is_ok(), s == State::PendingApproval && now < exp);
        }
    }
}
