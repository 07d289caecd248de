//! Who may ask, who may approve, and how far one request may reach. Pure functions over IDs; the
//! callers look up the facts (Slack profile emails, target lists) and pass them in.

use std::collections::BTreeSet;

use crate::domain::ids::{SlackChannelId, SlackTeamId, SlackUserId};

/// The allowlists and limits in force.
#[derive(Debug, Clone)]
pub struct Policy {
    pub team: SlackTeamId,
    pub channels: Vec<SlackChannelId>,
    pub requesters: BTreeSet<SlackUserId>,
    pub approvers: BTreeSet<SlackUserId>,
    pub max_targets: usize,
    pub require_reason: bool,
}

/// A refusal shown to the person who asked, ephemerally. Each names what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefusal {
    #[error(
        "This bot serves one Slack workspace only; requests from other workspaces are refused."
    )]
    WrongTeam,
    #[error("Password resets can't be requested in this channel. Use one of: {0}.")]
    WrongChannel(String),
    #[error("You are not on the list of people who may request password resets. Ask an okta-reset administrator to add your Slack user ID ({0}).")]
    NotRequester(SlackUserId),
    #[error("A reason is required: add `reason:\"…\"` (for example an incident number).")]
    MissingReason,
    #[error("This request reaches {count} users, more than the limit of {limit}. Split it, or ask an administrator to raise `policy.max_targets`.")]
    TooManyTargets { count: usize, limit: usize },
    #[error("You are not on the list of approvers for password resets.")]
    NotApprover,
    #[error("You asked for this reset, so you can't approve it: another approver must.")]
    SelfApproval,
    #[error("Your own Okta account is among the users to reset, so you can't approve this request: another approver must.")]
    ApproverIsTarget,
    #[error("Your own Okta account ({0}) is among the users to reset. Ask another admin to make this request.")]
    RequesterIsTarget(String),
}

impl Policy {
    /// May `user` ask for resets from `channel` of `team`?
    pub fn check_requester(
        &self,
        team: &SlackTeamId,
        channel: &SlackChannelId,
        user: &SlackUserId,
    ) -> Result<(), PolicyRefusal> {
        if team != &self.team {
            return Err(PolicyRefusal::WrongTeam);
        }
        if !self.channels.contains(channel) {
            let list = self
                .channels
                .iter()
                .map(|c| format!("<#{c}>"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(PolicyRefusal::WrongChannel(list));
        }
        if !self.requesters.contains(user) {
            return Err(PolicyRefusal::NotRequester(user.clone()));
        }
        Ok(())
    }

    pub fn check_reason(&self, reason: Option<&str>) -> Result<(), PolicyRefusal> {
        match reason {
            Some(r) if !r.trim().is_empty() => Ok(()),
            _ if self.require_reason => Err(PolicyRefusal::MissingReason),
            _ => Ok(()),
        }
    }

    /// `resolved` counts every user the request reached, before any is skipped: the limit bounds
    /// the request's reach, not only what it changes.
    pub fn check_reach(&self, resolved: usize) -> Result<(), PolicyRefusal> {
        if resolved > self.max_targets {
            Err(PolicyRefusal::TooManyTargets {
                count: resolved,
                limit: self.max_targets,
            })
        } else {
            Ok(())
        }
    }

    /// May `approver` decide on a request made by `requester`? `approver_is_target` is whether the
    /// approver's own Okta account is among the users that would be reset.
    pub fn check_approver(
        &self,
        team: &SlackTeamId,
        approver: &SlackUserId,
        requester: &SlackUserId,
        approver_is_target: bool,
    ) -> Result<(), PolicyRefusal> {
        if team != &self.team {
            return Err(PolicyRefusal::WrongTeam);
        }
        if approver == requester {
            return Err(PolicyRefusal::SelfApproval);
        }
        if !self.approvers.contains(approver) {
            return Err(PolicyRefusal::NotApprover);
        }
        if approver_is_target {
            return Err(PolicyRefusal::ApproverIsTarget);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn uid(n: u32) -> SlackUserId {
        SlackUserId::parse(&format!("U{n:04}")).unwrap()
    }

    fn policy(requesters: &[u32], approvers: &[u32]) -> Policy {
        Policy {
            team: SlackTeamId::parse("T0001").unwrap(),
            channels: vec![SlackChannelId::parse("C0001").unwrap()],
            requesters: requesters.iter().map(|n| uid(*n)).collect(),
            approvers: approvers.iter().map(|n| uid(*n)).collect(),
            max_targets: 10,
            require_reason: true,
        }
    }

    #[test]
    fn requester_checks_team_then_channel_then_allowlist() {
        let p = policy(&[1], &[2]);
        let t = p.team.clone();
        let c = p.channels[0].clone();
        assert_eq!(p.check_requester(&t, &c, &uid(1)), Ok(()));
        assert_eq!(
            p.check_requester(&SlackTeamId::parse("T9999").unwrap(), &c, &uid(1)),
            Err(PolicyRefusal::WrongTeam)
        );
        assert_eq!(
            p.check_requester(&t, &SlackChannelId::parse("C9999").unwrap(), &uid(1)),
            Err(PolicyRefusal::WrongChannel("<#C0001>".into()))
        );
        assert_eq!(
            p.check_requester(&t, &c, &uid(2)),
            Err(PolicyRefusal::NotRequester(uid(2)))
        );
    }

    #[test]
    fn reason_and_reach() {
        let mut p = policy(&[1], &[2]);
        assert_eq!(p.check_reason(None), Err(PolicyRefusal::MissingReason));
        assert_eq!(
            p.check_reason(Some("  ")),
            Err(PolicyRefusal::MissingReason)
        );
        assert_eq!(p.check_reason(Some("INC-1")), Ok(()));
        p.require_reason = false;
        assert_eq!(p.check_reason(None), Ok(()));
        assert_eq!(p.check_reach(10), Ok(()));
        assert_eq!(
            p.check_reach(11),
            Err(PolicyRefusal::TooManyTargets {
                count: 11,
                limit: 10
            })
        );
    }

    proptest! {
        /// An approval is allowed exactly when the approver is listed, is not the requester and
        /// is not a target — whatever the lists hold.
        #[test]
        fn approval_rule(requesters in proptest::collection::btree_set(1u32..8, 0..5),
                         approvers in proptest::collection::btree_set(1u32..8, 0..5),
                         requester in 1u32..8, approver in 1u32..8, is_target: bool) {
            let r: Vec<u32> = requesters.into_iter().collect();
            let a: Vec<u32> = approvers.into_iter().collect();
            let p = policy(&r, &a);
            let ok = p.check_approver(&p.team.clone(), &uid(approver), &uid(requester), is_target).is_ok();
            prop_assert_eq!(ok, a.contains(&approver) && approver != requester && !is_target);
        }
    }
}
