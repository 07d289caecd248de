//! Turns what a request named (groups, users) into the frozen list of targets, each classified.
//! Group members are read page by page; once the request reaches past `max_targets` only ids are
//! counted, so the refusal can say how many it reached without holding them all.

use std::collections::HashSet;

use super::client::{escape_filter_value, OktaClient};
use super::error::OktaError;
use super::model::OktaUser;
use crate::domain::classify::{classify, Classification};
use crate::domain::command::{TargetSpec, UserRef};
use crate::domain::digest::snapshot_digest;
use crate::slack::escape::code;
use crate::store::NewTarget;

mod rows;
pub use rows::FileRows;

#[derive(Debug)]
pub struct Resolution {
    pub targets: Vec<NewTarget>,
    /// Distinct users reached (duplicates counted once).
    pub distinct: usize,
    pub to_reset: usize,
    pub digest: String,
}

/// Why a request could not be resolved. Shown to the requester only; values are escaped.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("No Okta group is named {}. Check the spelling, or give the group id: `group:00g…`.", code(.0))]
    GroupNotFound(String),
    #[error("The group name {} matches {} groups in Okta: {}. Give the id of the one you mean, e.g. `group:{}`.", code(.name), .ids.len(), .ids.iter().map(|i| code(i)).collect::<Vec<_>>().join(", "), .ids[0])]
    AmbiguousGroup { name: String, ids: Vec<String> },
    #[error("No Okta group has the id {}.", code(.0))]
    GroupIdNotFound(String),
    #[error("No Okta user matches {}. Check the login or email.", code(.0))]
    UserNotFound(String),
    #[error("{} resolved to a different account ({}). Give the full login.", code(.asked), code(.found))]
    UserMismatch { asked: String, found: String },
    #[error("{} matches {count} Okta users. Give the login or the user id (`00u…`) instead.", code(.asked))]
    AmbiguousUser { asked: String, count: usize },
    #[error("This request reaches {count} users, more than the limit of {limit}. Split it, or ask an administrator to raise `policy.max_targets`.")]
    TooMany { count: usize, limit: usize },
    #[error("Nothing to reset: {resolved} user(s) resolved, all skipped ({breakdown}).")]
    NothingToReset { resolved: usize, breakdown: String },
    #[error("Okta could not be asked: {0}. Nothing was changed; try again shortly.")]
    Okta(#[from] OktaError),
    #[error("Nothing to reset from {}: {breakdown}. {reasons}", code(.file))]
    NothingToResetInFile {
        file: String,
        breakdown: String,
        /// The first unusable rows, already escaped.
        reasons: String,
    },
}

struct Collector<'a> {
    okta: &'a OktaClient,
    max: usize,
    seen: HashSet<String>,
    targets: Vec<NewTarget>,
}

impl Collector<'_> {
    async fn add(&mut self, user: OktaUser, source: &str) -> Result<(), OktaError> {
        if !self.seen.insert(user.id.clone()) {
            if self.seen.len() <= self.max {
                self.targets
                    .push(target(&user, source, Classification::SkipDuplicate));
            }
            return Ok(());
        }
        if self.seen.len() > self.max {
            // Over the limit: keep counting, stop holding.
            return Ok(());
        }
        // A list entry without credentials cannot tell the provider: re-read, never guess.
        let user = if user.provider().is_none() {
            self.okta.get_user(&user.id).await?.unwrap_or(user)
        } else {
            user
        };
        let class = classify(user.provider().unwrap_or(""), &user.status);
        self.targets.push(target(&user, source, class));
        Ok(())
    }

    async fn add_group(&mut self, group_id: &str, source: &str) -> Result<(), OktaError> {
        let mut url = Some(self.okta.group_members_url(group_id));
        while let Some(u) = url {
            let page = self.okta.users_page(&u).await?;
            for user in page.items {
                self.add(user, source).await?;
            }
            url = page.next;
        }
        Ok(())
    }
}

fn target(u: &OktaUser, source: &str, class: Classification) -> NewTarget {
    NewTarget {
        okta_id: Some(u.id.clone()),
        login: Some(u.profile.login.clone()),
        email: u.profile.email.clone(),
        display_name: Some(u.display_name()),
        status: Some(u.status.clone()),
        provider: u.provider().map(str::to_string),
        source: source.to_string(),
        classification: class.code().to_string(),
        detail: class.to_string(),
    }
}

pub async fn resolve(
    okta: &OktaClient,
    specs: &[TargetSpec],
    max_targets: usize,
) -> Result<Resolution, ResolveError> {
    resolve_with_file(okta, specs, None, max_targets).await
}

/// [`resolve`], plus the rows of an uploaded file: a row naming nobody is skipped with its row
/// number instead of failing the request.
pub async fn resolve_with_file(
    okta: &OktaClient,
    specs: &[TargetSpec],
    file: Option<&FileRows<'_>>,
    max_targets: usize,
) -> Result<Resolution, ResolveError> {
    let mut c = Collector {
        okta,
        max: max_targets,
        seen: HashSet::new(),
        targets: Vec::new(),
    };
    for spec in specs {
        match spec {
            TargetSpec::GroupName(name) => {
                let groups = okta.groups_named(name).await?;
                match groups.as_slice() {
                    [] => return Err(ResolveError::GroupNotFound(name.clone())),
                    [g] => {
                        c.add_group(&g.id, &format!("group:{}", g.profile.name))
                            .await?
                    }
                    many => {
                        return Err(ResolveError::AmbiguousGroup {
                            name: name.clone(),
                            ids: many.iter().map(|g| g.id.clone()).collect(),
                        })
                    }
                }
            }
            TargetSpec::GroupId(id) => {
                let g = okta
                    .get_group(id.as_str())
                    .await?
                    .ok_or_else(|| ResolveError::GroupIdNotFound(id.to_string()))?;
                c.add_group(&g.id, &format!("group:{}", g.profile.name))
                    .await?;
            }
            TargetSpec::User(UserRef::Id(id)) => {
                let u = okta
                    .get_user(id.as_str())
                    .await?
                    .ok_or_else(|| ResolveError::UserNotFound(id.to_string()))?;
                c.add(u, &format!("user:{id}")).await?;
            }
            TargetSpec::User(UserRef::Login(login)) => {
                let u = lookup_login(okta, login).await?;
                c.add(u, &format!("user:{login}")).await?;
            }
        }
    }
    if let Some(f) = file {
        rows::add_rows(&mut c, f).await?;
    }
    let distinct = c.seen.len();
    if distinct > max_targets {
        return Err(ResolveError::TooMany {
            count: distinct,
            limit: max_targets,
        });
    }
    let to_reset: Vec<&str> = c
        .targets
        .iter()
        .filter(|t| t.classification == "reset")
        .filter_map(|t| t.okta_id.as_deref())
        .collect();
    if let (true, Some(f)) = (to_reset.is_empty(), file) {
        return Err(ResolveError::NothingToResetInFile {
            file: f.file.to_string(),
            breakdown: breakdown(&c.targets),
            reasons: crate::slack::render_file::first_reasons(&c.targets),
        });
    }
    if to_reset.is_empty() {
        return Err(ResolveError::NothingToReset {
            resolved: distinct,
            breakdown: breakdown(&c.targets),
        });
    }
    let digest = snapshot_digest(to_reset.iter().copied());
    let to_reset = to_reset.len();
    Ok(Resolution {
        targets: c.targets,
        distinct,
        to_reset,
        digest,
    })
}

/// "2 skipped: AD/LDAP-managed, 1 skipped: wrong status"
fn breakdown(targets: &[NewTarget]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for t in targets {
        match counts.iter_mut().find(|(c, _)| *c == t.classification) {
            Some((_, n)) => *n += 1,
            None => counts.push((&t.classification, 1)),
        }
    }
    counts
        .iter()
        .map(|(c, n)| format!("{n} {}", Classification::label(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A login or an email: by path when the login can be a path segment, then by search. The
/// answer must carry the login or email asked for: a shortname can resolve to someone else.
async fn lookup_login(okta: &OktaClient, asked: &str) -> Result<OktaUser, ResolveError> {
    if !asked.contains('/') {
        if let Some(u) = okta.get_user(asked).await? {
            let same = u.profile.login.eq_ignore_ascii_case(asked)
                || u.profile
                    .email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(asked));
            return if same {
                Ok(u)
            } else {
                Err(ResolveError::UserMismatch {
                    asked: asked.to_string(),
                    found: u.profile.login,
                })
            };
        }
    }
    let v = escape_filter_value(asked);
    let expr = format!("profile.login eq \"{v}\" or profile.email eq \"{v}\"");
    let page = okta.users_page(&okta.user_search_url(&expr)).await?;
    let mut found = page.items;
    match found.len() {
        0 => Err(ResolveError::UserNotFound(asked.to_string())),
        1 => Ok(found.remove(0)),
        n => Err(ResolveError::AmbiguousUser {
            asked: asked.to_string(),
            count: n,
        }),
    }
}
