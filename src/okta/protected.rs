//! Who must never be reset: holders of Okta admin roles, members of the protected groups, the
//! protected logins. Read when a request is made (`service::resolve`) and again when its run starts,
//! resumes or continues after its canary (`jobs::recheck`), and a user's own role assignments
//! are read just before their reset.
//!
//! Okta's spec and documentation do not say whether `GET /api/v1/iam/assignees/users` lists a
//! user who holds a role only through a group; `GET /api/v1/users/{id}/roles` does list those
//! (`assignmentType: GROUP`, documented example). So the run reads each user's own roles before
//! resetting them, rather than trust the org-wide list for group-held roles.

use std::collections::{HashMap, HashSet};

use super::api::OktaApi;
use super::client::OktaClient;
use super::entry::Malformed;
use super::error::OktaError;
use super::model::OktaUser;
use crate::domain::classify::{protection, Classification};
use crate::domain::ids::OktaGroupId;

/// Why the protected accounts could not be read. Every variant means: nobody may be reset until
/// they can. The text is plain, for the log; what Slack shows is the application layer's
/// (`service::resolve::protection_text`, values escaped).
#[derive(Debug, thiserror::Error)]
pub enum ProtectionError {
    #[error("Okta could not say who holds admin roles ({0})")]
    AdminsUnknown(OktaError),
    #[error("the protected group {0:?} in `policy.protected_groups` is not in Okta")]
    GroupMissing(String),
    #[error("the protected group {group:?} has a member Okta's answer does not identify ({why})")]
    MemberUnreadable { group: String, why: String },
    #[error("Okta could not be asked ({0})")]
    Okta(#[from] OktaError),
}

impl ProtectionError {
    /// The Okta error behind it, if any (a rejected token stops a run rather than wait).
    pub fn okta_error(&self) -> Option<&OktaError> {
        match self {
            Self::AdminsUnknown(e) | Self::Okta(e) => Some(e),
            Self::GroupMissing(_) | Self::MemberUnreadable { .. } => None,
        }
    }
}

/// Who must never be reset, as read at one moment.
pub struct Protection {
    admins: HashSet<String>,
    /// Member id → the protected group's name.
    group_members: HashMap<String, String>,
    logins: HashSet<String>,
}

impl Protection {
    /// Reads the admin-role holders and the protected groups' members (`protected_groups`: names
    /// or `00g…` ids); `protected_logins` come from the policy.
    pub async fn load(
        okta: &dyn OktaApi,
        protected_groups: &[String],
        protected_logins: &[String],
    ) -> Result<Self, ProtectionError> {
        let admins = okta
            .admin_user_ids()
            .await
            .map_err(ProtectionError::AdminsUnknown)?;
        let mut group_members = HashMap::new();
        for entry in protected_groups {
            let groups = match OktaGroupId::parse(entry) {
                Ok(id) => okta.get_group(id.as_str()).await?.into_iter().collect(),
                // Every group of that name is protected: a name shared by several is no reason
                // to protect fewer.
                Err(_) => okta.groups_named(entry).await?,
            };
            if groups.is_empty() {
                return Err(ProtectionError::GroupMissing(entry.clone()));
            }
            for g in groups {
                let mut url = Some(okta.group_members_url(&g.id));
                while let Some(u) = url {
                    let page = okta.users_page(&u).await?;
                    for entry in page.items {
                        // Protection needs only the id: a malformed entry with an id is still
                        // protected; one without cannot be kept out, so nobody is reset.
                        let id = match entry {
                            Ok(m) => m.id,
                            Err(Malformed { id: Some(id), .. }) => id,
                            Err(m) => {
                                return Err(ProtectionError::MemberUnreadable {
                                    group: g.profile.name.clone(),
                                    why: m.reason(),
                                })
                            }
                        };
                        group_members
                            .entry(id)
                            .or_insert_with(|| g.profile.name.clone());
                    }
                    url = page.next;
                }
            }
        }
        let logins = protected_logins.iter().map(|l| l.to_lowercase()).collect();
        Ok(Self {
            admins,
            group_members,
            logins,
        })
    }

    /// Why `u` is protected, or `None`.
    pub fn check(&self, u: &OktaUser) -> Option<Classification> {
        protection(
            self.admins.contains(&u.id),
            self.group_members.get(&u.id).map(String::as_str),
            self.logins.contains(&u.profile.login.to_lowercase()),
        )
    }
}

/// One admin role a user holds: its type, and the group it comes through (`None`: assigned to
/// the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHeld {
    pub kind: String,
    pub through_group: Option<String>,
}

impl std::fmt::Display for RoleHeld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.through_group {
            Some(g) => write!(f, "{} through the group {}", self.kind, g),
            None => write!(f, "{} assigned directly", self.kind),
        }
    }
}

impl OktaClient {
    /// The admin roles `user_id` holds, directly or through a group (`GET
    /// /api/v1/users/{id}/roles`, scope `okta.roles.read`); `None` when Okta has no such user.
    /// Any entry counts as a role, even one whose fields cannot be read: an unreadable
    /// assignment is still an assignment.
    pub async fn user_roles(&self, user_id: &str) -> Result<Option<Vec<RoleHeld>>, OktaError> {
        let url = self.api(&["users", user_id, "roles"]);
        let entries = match self.get_json::<Vec<serde_json::Value>>(&url).await {
            Ok((v, _)) => v,
            Err(OktaError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(entries.iter().map(role_held).collect()))
    }
}

fn role_held(v: &serde_json::Value) -> RoleHeld {
    let kind = v["type"].as_str().unwrap_or("an unnamed role").to_string();
    let through_group = (v["assignmentType"].as_str() == Some("GROUP")).then(|| {
        v["_links"]["assignee"]["href"]
            .as_str()
            .and_then(|h| h.rsplit('/').next())
            .unwrap_or("?")
            .to_string()
    });
    RoleHeld {
        kind,
        through_group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn group_held_roles_name_their_group_and_unreadable_entries_still_count() {
        let group = role_held(&json!({
            "type": "SUPER_ADMIN", "assignmentType": "GROUP",
            "_links": {"assignee": {"href": "https://o.okta.com/api/v1/groups/00gADMINS"}}
        }));
        assert_eq!(group.to_string(), "SUPER_ADMIN through the group 00gADMINS");
        let direct = role_held(&json!({"type": "ORG_ADMIN", "assignmentType": "USER"}));
        assert_eq!(direct.to_string(), "ORG_ADMIN assigned directly");
        let odd = role_held(&json!({"weird": true}));
        assert_eq!(odd.to_string(), "an unnamed role assigned directly");
    }

    #[test]
    fn a_refusal_to_read_roles_keeps_its_okta_error_for_the_systemic_check() {
        let e = ProtectionError::AdminsUnknown(OktaError::Unauthorized);
        assert!(e.okta_error().is_some_and(OktaError::is_systemic));
        assert!(ProtectionError::GroupMissing("x".into())
            .okta_error()
            .is_none());
    }
}
