//! Who may ask, who may approve, and how far one request may reach. Pure functions over IDs; the
//! callers look up the facts (Slack profile emails, target lists, members of the Slack user groups
//! an allowlist names) and pass them in.

use std::collections::BTreeSet;

use crate::domain::ids::{SlackChannelId, SlackTeamId, SlackUserGroupId, SlackUserId};

/// Who may do something: people by Slack user ID, and Slack user groups (`S…`) whose members may
/// too. Never names: a group is named by its ID and its members are user IDs from Slack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    pub users: BTreeSet<SlackUserId>,
    pub groups: BTreeSet<SlackUserGroupId>,
}

/// What Slack said about one person and an allowlist's user groups (looked up by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Listed groups the person is a member of.
    pub member_of: BTreeSet<SlackUserGroupId>,
    /// Listed groups whose members could not be read from Slack.
    pub unchecked: BTreeSet<SlackUserGroupId>,
}

/// Whether an allowlist admits a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    NotListed,
    /// Not listed by ID, in no group that could be read, and these groups could not be read:
    /// refused (fail closed), with words that say so.
    Unchecked(Vec<SlackUserGroupId>),
}

impl Allowlist {
    /// Listed directly by user ID.
    pub fn contains(&self, user: &SlackUserId) -> bool {
        self.users.contains(user)
    }

    /// Lists `user` by ID.
    pub fn insert(&mut self, user: SlackUserId) -> bool {
        self.users.insert(user)
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }

    /// The groups whose members must be read to decide on `user`: none when `user` is listed by
    /// ID (no Slack call is needed, and a Slack outage does not lock them out).
    pub fn groups_to_ask(&self, user: &SlackUserId) -> Vec<SlackUserGroupId> {
        if self.contains(user) {
            Vec::new()
        } else {
            self.groups.iter().cloned().collect()
        }
    }

    pub fn admits(&self, user: &SlackUserId, m: &Membership) -> Admission {
        if self.contains(user) || self.groups.iter().any(|g| m.member_of.contains(g)) {
            return Admission::Admitted;
        }
        let unchecked: Vec<SlackUserGroupId> = self
            .groups
            .iter()
            .filter(|g| m.unchecked.contains(*g))
            .cloned()
            .collect();
        if unchecked.is_empty() {
            Admission::NotListed
        } else {
            Admission::Unchecked(unchecked)
        }
    }

    /// Every entry as configured, user IDs then group IDs (for the audit log).
    pub fn entries(&self) -> Vec<&str> {
        self.users
            .iter()
            .map(|u| u.as_str())
            .chain(self.groups.iter().map(|g| g.as_str()))
            .collect()
    }
}

fn group_list(groups: &[SlackUserGroupId]) -> String {
    groups
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The allowlists and limits in force.
#[derive(Debug, Clone)]
pub struct Policy {
    pub team: SlackTeamId,
    pub channels: Vec<SlackChannelId>,
    pub requesters: Allowlist,
    pub approvers: Allowlist,
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
    #[error("You are not listed by your Slack user ID, and your membership of the Slack user group(s) {0} could not be checked with Slack, so the bot cannot tell whether you may request password resets. Nothing was done; try again shortly.")]
    RequesterGroupsUnchecked(String),
    #[error("You are not on the list of approvers for password resets.")]
    NotApprover,
    #[error("You are not listed by your Slack user ID, and your membership of the Slack user group(s) {0} could not be checked with Slack, so the bot cannot tell whether you may approve. Nothing was decided; try again shortly.")]
    ApproverGroupsUnchecked(String),
    #[error("You asked for this reset, so you can't approve it: another approver must.")]
    SelfApproval,
    #[error("Your own Okta account is among the users to reset, so you can't approve this request: another approver must.")]
    ApproverIsTarget,
    #[error("Your own Okta account ({0}) is among the users to reset. Ask another admin to make this request.")]
    RequesterIsTarget(String),
}

impl Policy {
    /// May `user` ask for resets from `channel` of `team`? `groups` is what Slack said about the
    /// requesters' user groups (see [`Allowlist::groups_to_ask`]).
    pub fn check_requester(
        &self,
        team: &SlackTeamId,
        channel: &SlackChannelId,
        user: &SlackUserId,
        groups: &Membership,
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
        match self.requesters.admits(user, groups) {
            Admission::Admitted => Ok(()),
            Admission::NotListed => Err(PolicyRefusal::NotRequester(user.clone())),
            Admission::Unchecked(g) => Err(PolicyRefusal::RequesterGroupsUnchecked(group_list(&g))),
        }
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
    /// approver's own Okta account is among the users that would be reset; `groups` is what Slack
    /// said about the approvers' user groups.
    pub fn check_approver(
        &self,
        team: &SlackTeamId,
        approver: &SlackUserId,
        requester: &SlackUserId,
        approver_is_target: bool,
        groups: &Membership,
    ) -> Result<(), PolicyRefusal> {
        if team != &self.team {
            return Err(PolicyRefusal::WrongTeam);
        }
        if approver == requester {
            return Err(PolicyRefusal::SelfApproval);
        }
        match self.approvers.admits(approver, groups) {
            Admission::Admitted => {}
            Admission::NotListed => return Err(PolicyRefusal::NotApprover),
            Admission::Unchecked(g) => {
                return Err(PolicyRefusal::ApproverGroupsUnchecked(group_list(&g)))
            }
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

    fn gid(n: u32) -> SlackUserGroupId {
        SlackUserGroupId::parse(&format!("S{n:04}")).unwrap()
    }

    fn users(ids: &[u32]) -> Allowlist {
        Allowlist {
            users: ids.iter().map(|n| uid(*n)).collect(),
            groups: BTreeSet::new(),
        }
    }

    fn none() -> Membership {
        Membership::default()
    }

    fn policy(requesters: &[u32], approvers: &[u32]) -> Policy {
        Policy {
            team: SlackTeamId::parse("T0001").unwrap(),
            channels: vec![SlackChannelId::parse("C0001").unwrap()],
            requesters: users(requesters),
            approvers: users(approvers),
            max_targets: 10,
            require_reason: true,
        }
    }

    #[test]
    fn requester_checks_team_then_channel_then_allowlist() {
        let p = policy(&[1], &[2]);
        let t = p.team.clone();
        let c = p.channels[0].clone();
        assert_eq!(p.check_requester(&t, &c, &uid(1), &none()), Ok(()));
        assert_eq!(
            p.check_requester(&SlackTeamId::parse("T9999").unwrap(), &c, &uid(1), &none()),
            Err(PolicyRefusal::WrongTeam)
        );
        assert_eq!(
            p.check_requester(
                &t,
                &SlackChannelId::parse("C9999").unwrap(),
                &uid(1),
                &none()
            ),
            Err(PolicyRefusal::WrongChannel("<#C0001>".into()))
        );
        assert_eq!(
            p.check_requester(&t, &c, &uid(2), &none()),
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

    #[test]
    fn group_members_are_admitted_and_unreadable_groups_refuse_with_their_own_words() {
        let mut p = policy(&[1], &[2]);
        p.requesters.groups.insert(gid(10));
        p.approvers.groups.insert(gid(20));
        p.approvers.groups.insert(gid(21));
        let (t, c) = (p.team.clone(), p.channels[0].clone());
        let member = |g: u32| Membership {
            member_of: [gid(g)].into(),
            unchecked: BTreeSet::new(),
        };
        let unchecked = |gs: &[u32]| Membership {
            member_of: BTreeSet::new(),
            unchecked: gs.iter().map(|g| gid(*g)).collect(),
        };
        // Listed by ID: no group needs asking, and an unreadable group does not matter.
        assert!(p.requesters.groups_to_ask(&uid(1)).is_empty());
        assert_eq!(p.requesters.groups_to_ask(&uid(5)), vec![gid(10)]);
        assert_eq!(
            p.check_requester(&t, &c, &uid(1), &unchecked(&[10])),
            Ok(())
        );
        assert_eq!(p.check_requester(&t, &c, &uid(5), &member(10)), Ok(()));
        // A member of an approver group is not a requester.
        assert_eq!(
            p.check_requester(&t, &c, &uid(5), &member(20)),
            Err(PolicyRefusal::NotRequester(uid(5)))
        );
        let refused = p.check_requester(&t, &c, &uid(5), &unchecked(&[10]));
        assert_eq!(
            refused,
            Err(PolicyRefusal::RequesterGroupsUnchecked("S0010".into()))
        );
        assert!(refused
            .unwrap_err()
            .to_string()
            .contains("could not be checked"));
        assert_eq!(
            p.check_approver(&t, &uid(5), &uid(1), false, &member(21)),
            Ok(())
        );
        // One readable group holding the approver is enough; otherwise an unreadable one refuses.
        let mixed = Membership {
            member_of: [gid(20)].into(),
            unchecked: [gid(21)].into(),
        };
        assert_eq!(
            p.check_approver(&t, &uid(5), &uid(1), false, &mixed),
            Ok(())
        );
        assert_eq!(
            p.check_approver(&t, &uid(5), &uid(1), false, &unchecked(&[20, 21])),
            Err(PolicyRefusal::ApproverGroupsUnchecked(
                "S0020, S0021".into()
            ))
        );
        assert_eq!(
            p.check_approver(&t, &uid(5), &uid(1), false, &none()),
            Err(PolicyRefusal::NotApprover)
        );
        // Group membership does not lift the two-person rule or the target rule.
        assert_eq!(
            p.check_approver(&t, &uid(5), &uid(5), false, &member(20)),
            Err(PolicyRefusal::SelfApproval)
        );
        assert_eq!(
            p.check_approver(&t, &uid(5), &uid(1), true, &member(20)),
            Err(PolicyRefusal::ApproverIsTarget)
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
            let ok = p.check_approver(&p.team.clone(), &uid(approver), &uid(requester), is_target, &none()).is_ok();
            prop_assert_eq!(ok, a.contains(&approver) && approver != requester && !is_target);
        }
    }
}
