//! Slack user groups named in the allowlists: who is in them, read with `usergroups.users.list`
//! and kept for [`GROUP_CACHE_SECS`], shared by every request and click in this process.
//!
//! Decisions: a group's members are user IDs from Slack, never names. A group that cannot be read
//! is not cached (the next request asks again) and admits nobody: the person is refused with a
//! sentence saying the membership could not be checked, unless they are listed by ID. A person
//! listed by ID never costs a Slack call.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::domain::ids::{SlackUserGroupId, SlackUserId};
use crate::domain::policy::{Allowlist, Membership};

use super::Service;

/// How long a group's member list is trusted: a person removed from a group in Slack can still
/// ask or approve for at most this long (it also bounds Slack calls to one per group per minute
/// under load, well inside `usergroups.users.list`'s Tier 2 limit).
pub const GROUP_CACHE_SECS: i64 = 60;

/// Which allowlist a check is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Requester,
    Approver,
}

/// A group's member ids, shared by the requests that read them.
type Members = Arc<BTreeSet<String>>;

/// Member lists by group, each with the time (ms, the service's clock) it was read.
#[derive(Default)]
pub struct GroupCache {
    entries: Mutex<HashMap<SlackUserGroupId, (i64, Members)>>,
}

impl GroupCache {
    fn fresh(&self, group: &SlackUserGroupId, now: i64) -> Option<Members> {
        let entries = self.entries.lock().expect("group cache");
        let (at, members) = entries.get(group)?;
        (now - at < GROUP_CACHE_SECS * 1000 && now >= *at).then(|| members.clone())
    }

    fn put(&self, group: &SlackUserGroupId, now: i64, members: Members) {
        self.entries
            .lock()
            .expect("group cache")
            .insert(group.clone(), (now, members));
    }
}

impl Service {
    fn allowlist(&self, role: Role) -> &Allowlist {
        match role {
            Role::Requester => &self.policy.requesters,
            Role::Approver => &self.policy.approvers,
        }
    }

    /// What Slack says about `user` and the groups of `role`'s allowlist. Nothing is asked when
    /// `user` is listed by ID; the groups are read one by one until one holds `user`.
    pub(crate) async fn membership(&self, user: &SlackUserId, role: Role) -> Membership {
        let mut m = Membership::default();
        for group in self.allowlist(role).groups_to_ask(user) {
            match self.group_members(&group).await {
                Some(members) if members.contains(user.as_str()) => {
                    m.member_of.insert(group);
                    break;
                }
                Some(_) => {}
                None => {
                    m.unchecked.insert(group);
                }
            }
        }
        m
    }

    /// Puts on record that `user` was let in as `role` through a listed Slack user group rather
    /// than by ID, and which group: membership changes outside the bot, so the audit log must
    /// say what admitted the person at the time. Nothing is written for people listed by ID.
    pub(crate) async fn audit_group_admission(
        &self,
        request: Option<&str>,
        user: &SlackUserId,
        role: Role,
        m: &Membership,
    ) {
        if m.member_of.is_empty() || self.allowlist(role).contains(user) {
            return;
        }
        let groups: Vec<&str> = m.member_of.iter().map(|g| g.as_str()).collect();
        let role = match role {
            Role::Requester => "requester",
            Role::Approver => "approver",
        };
        self.audit(
            request,
            Some(user.as_str()),
            "admitted_through_group",
            serde_json::json!({"role": role, "groups": groups}),
        )
        .await;
    }

    /// Whether `user` is on `role`'s allowlist, by ID or through a group that could be read (for
    /// `status` and `cancel`, which say who may use them in their own words).
    pub(crate) async fn on_allowlist(&self, user: &SlackUserId, role: Role) -> bool {
        let m = self.membership(user, role).await;
        self.allowlist(role).admits(user, &m) == crate::domain::policy::Admission::Admitted
    }

    /// A group's members, from the cache or from Slack; `None` when Slack could not say.
    async fn group_members(&self, group: &SlackUserGroupId) -> Option<Members> {
        let now = self.now();
        if let Some(members) = self.groups.fresh(group, now) {
            return Some(members);
        }
        match self.slack.usergroup_members(group.as_str()).await {
            Ok(users) => {
                let members = Arc::new(users.into_iter().collect::<BTreeSet<_>>());
                self.groups.put(group, now, members.clone());
                Some(members)
            }
            Err(e) => {
                tracing::warn!(group = %group, error = %e, "could not read a Slack user group's members");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;
    use crate::service::fakes::{self, FakeOkta, FakeSlack};
    use crate::sim::world::{OUTSIDER, REQUESTER};

    const GROUP: &str = "S0REQ";

    /// Requesters: those the world's configuration lists by ID, and the members of S0REQ.
    async fn service(
        slack: &Arc<FakeSlack>,
        clock: &ManualClock,
    ) -> (Arc<Service>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let svc = fakes::service(
            Arc::new(FakeOkta::default()),
            slack.clone(),
            Arc::new(clock.clone()),
            &dir,
            |c| {
                c.policy
                    .requesters
                    .groups
                    .insert(SlackUserGroupId::parse(GROUP).unwrap());
            },
        )
        .await;
        (svc, dir)
    }

    fn user(id: &str) -> SlackUserId {
        SlackUserId::parse(id).unwrap()
    }

    fn group() -> SlackUserGroupId {
        SlackUserGroupId::parse(GROUP).unwrap()
    }

    #[tokio::test]
    async fn a_group_is_read_once_per_cache_time_and_never_for_someone_listed_by_id() {
        let slack = Arc::new(FakeSlack::default());
        slack.put_group(GROUP, &[OUTSIDER]);
        let clock = ManualClock::new(1_700_000_000_000);
        let (svc, _dir) = service(&slack, &clock).await;
        let reads = || *slack.group_reads.lock().unwrap();

        // Listed by ID: no Slack call, whatever the groups say.
        let m = svc.membership(&user(REQUESTER), Role::Requester).await;
        assert!(m.member_of.is_empty() && m.unchecked.is_empty());
        assert_eq!(reads(), 0);

        let m = svc.membership(&user(OUTSIDER), Role::Requester).await;
        assert!(m.member_of.contains(&group()));
        assert_eq!(reads(), 1);

        // Removed in Slack: the list read a moment ago holds until it is GROUP_CACHE_SECS old.
        slack.put_group(GROUP, &[]);
        clock.advance_secs(GROUP_CACHE_SECS - 1);
        let m = svc.membership(&user(OUTSIDER), Role::Requester).await;
        assert!(m.member_of.contains(&group()));
        assert_eq!(reads(), 1);

        clock.advance_secs(1);
        let m = svc.membership(&user(OUTSIDER), Role::Requester).await;
        assert!(m.member_of.is_empty() && m.unchecked.is_empty());
        assert_eq!(reads(), 2);
        // Approvers name no group here: nothing to ask.
        svc.membership(&user(OUTSIDER), Role::Approver).await;
        assert_eq!(reads(), 2);
    }

    #[tokio::test]
    async fn a_group_slack_cannot_list_is_unchecked_and_not_cached() {
        let slack = Arc::new(FakeSlack::default());
        slack.put_group(GROUP, &[OUTSIDER]);
        *slack.failing_group_reads.lock().unwrap() = 1;
        let clock = ManualClock::new(1_700_000_000_000);
        let (svc, _dir) = service(&slack, &clock).await;

        let m = svc.membership(&user(OUTSIDER), Role::Requester).await;
        assert!(m.member_of.is_empty());
        assert!(m.unchecked.contains(&group()));

        // The failure was not kept: the next check asks again (at the same moment) and gets in.
        let m = svc.membership(&user(OUTSIDER), Role::Requester).await;
        assert!(m.member_of.contains(&group()) && m.unchecked.is_empty());
        assert_eq!(*slack.group_reads.lock().unwrap(), 2);
    }
}
