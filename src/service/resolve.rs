//! The use case behind every request: what it named (groups, users, searches, a file's rows)
//! becomes the frozen list of targets, each classified. It asks Okta through the Okta module
//! (calls and their types only), stages targets in the store, and words refusals for Slack
//! (`refusal.rs`). Group members and search results are read page by page and each page is
//! written to the store's staging area as it comes, so only ids are held in memory (about a
//! hundred bytes a user), never the org. Once the request reaches past `max_targets` no further
//! page, user or file row is asked of Okta: the refusal says how many it reached by then ("at
//! least" when it was cut short), so a request for a huge group costs one page, not the whole
//! group. Protected accounts (admin-role holders, members of protected groups, protected logins)
//! are classified `skip_protected` and never run.

use std::collections::HashSet;

use crate::clock::Clock;
use crate::domain::classify::{classify, Classification, TargetClass};
use crate::domain::command::{TargetSpec, UserRef};
use crate::domain::digest::snapshot_digest;
use crate::okta::client::escape_filter_value;
use crate::okta::entry::Malformed;
use crate::okta::model::OktaUser;
use crate::okta::protected::Protection;
use crate::okta::{OktaApi, OktaError};
use crate::store::{NewTarget, Store};

/// Targets are written to the store in pages of this many.
const STAGE_PAGE: usize = 200;

mod refusal;
mod rows;
pub use refusal::{protection_text, ResolveError};
pub use rows::FileRows;

#[derive(Debug)]
pub struct Resolution {
    /// Distinct users reached (duplicates counted once).
    pub distinct: usize,
    pub to_reset: usize,
    pub digest: String,
    /// The login of a target to reset that is the requester's own account, if any.
    pub requester_target: Option<String>,
    /// Targets by classification code, in the order first met.
    pub counts: Vec<(TargetClass, usize)>,
}

/// What resolution needs besides the targets.
#[derive(Clone, Copy)]
pub struct ResolveSettings<'a> {
    pub max_targets: usize,
    /// `policy.protected_groups`: names or `00g…` ids.
    pub protected_groups: &'a [String],
    /// `policy.protected_logins`.
    pub protected_logins: &'a [String],
    /// Lower-case login/email of the requester (their own account may not be reset).
    pub requester_identities: &'a [String],
    /// Stamps each staged page (`staged_at`), the time the sweep reads leftovers by.
    pub clock: &'a dyn Clock,
}

struct Collector<'a> {
    okta: &'a dyn OktaApi,
    store: &'a dyn Store,
    clock: &'a dyn Clock,
    request_id: &'a str,
    max: usize,
    protect: Protection,
    identities: &'a [String],
    seen: HashSet<Box<str>>,
    reset_ids: Vec<Box<str>>,
    counts: Vec<(TargetClass, usize)>,
    /// Skipped targets from an uploaded file, kept to say why when none is left to reset.
    file_skips: Vec<NewTarget>,
    requester_target: Option<String>,
    page: Vec<NewTarget>,
    next_seq: i64,
    /// Past `max`, reading stopped with pages, users or rows left unread.
    cut_short: bool,
}

impl Collector<'_> {
    /// Past `max_targets`: nothing more is asked of Okta.
    pub(super) fn over_limit(&self) -> bool {
        self.seen.len() > self.max
    }

    async fn add(&mut self, user: OktaUser, source: &str) -> Result<(), ResolveError> {
        self.add_entry(user, source, false).await
    }

    /// A user whose entry in Okta's answer could not be used. With an id it is read again by id
    /// (once; a duplicate of a user already met is a duplicate); if that answer is no better, or
    /// there is no id, the user is skipped with the reason, and the request goes on.
    async fn add_malformed(&mut self, m: Malformed, source: &str) -> Result<(), ResolveError> {
        let Some(id) = m.id.clone() else {
            return self.skip_malformed(&m, source, "").await;
        };
        if self.seen.contains(id.as_str()) {
            if self.seen.len() <= self.max {
                self.push(malformed_target(
                    &m,
                    source,
                    TargetClass::SkipDuplicate,
                    Classification::SkipDuplicate.to_string(),
                ))
                .await?;
            }
            return Ok(());
        }
        match self.okta.get_user_entry(&id).await? {
            Some(Ok(full)) if full.id == id => self.add_entry(full, source, true).await,
            Some(Ok(_)) => {
                self.seen.insert(id.as_str().into());
                self.skip_malformed(
                    &m,
                    source,
                    " (read again by id, Okta answered with another user)",
                )
                .await
            }
            Some(Err(again)) => {
                self.seen.insert(id.as_str().into());
                let again = Malformed {
                    id: Some(id),
                    login: again.login.or(m.login),
                    why: again.why,
                };
                self.skip_malformed(&again, source, " (also when read again by id)")
                    .await
            }
            None => {
                self.seen.insert(id.as_str().into());
                self.skip_malformed(&m, source, ", and Okta no longer has this user")
                    .await
            }
        }
    }

    async fn skip_malformed(
        &mut self,
        m: &Malformed,
        source: &str,
        more: &str,
    ) -> Result<(), ResolveError> {
        if self.seen.len() > self.max {
            return Ok(());
        }
        let t = malformed_target(
            m,
            source,
            TargetClass::SkipMalformed,
            format!("{}{more}", m.reason()),
        );
        self.push(t).await
    }

    async fn add_entry(
        &mut self,
        user: OktaUser,
        source: &str,
        already_reread: bool,
    ) -> Result<(), ResolveError> {
        if !self.seen.insert(user.id.as_str().into()) {
            if self.seen.len() <= self.max {
                self.push(target(&user, source, Classification::SkipDuplicate))
                    .await?;
            }
            return Ok(());
        }
        if self.seen.len() > self.max {
            // Over the limit: keep counting, stop holding.
            return Ok(());
        }
        // A list entry that cannot tell the provider or the status: re-read, never guess. The
        // full entry's `_links.resetPassword` is Okta's own word on whether a reset is allowed.
        let (user, reread) = if already_reread {
            (user, true)
        } else if user.provider().is_none() || user.status.is_empty() {
            match self.okta.get_user_entry(&user.id).await? {
                Some(Ok(full)) => (full, true),
                Some(Err(m)) => {
                    let m = Malformed {
                        id: Some(user.id.clone()),
                        login: Some(user.profile.login.clone()),
                        why: m.why,
                    };
                    let t = malformed_target(
                        &m,
                        source,
                        TargetClass::SkipMalformed,
                        format!("{} (read again by id)", m.reason()),
                    );
                    return self.push(t).await;
                }
                None => (user, false),
            }
        } else {
            (user, false)
        };
        let class = match self.protect.check(&user) {
            Some(p) => p,
            None => match classify(user.provider().unwrap_or(""), &user.status) {
                Classification::Reset if reread && !user.offers_reset() => {
                    Classification::SkipStatus(user.status.clone())
                }
                c => c,
            },
        };
        if class.is_reset() {
            self.reset_ids.push(user.id.as_str().into());
            let mine = [Some(&user.profile.login), user.profile.email.as_ref()]
                .into_iter()
                .flatten()
                .any(|v| self.identities.contains(&v.to_lowercase()));
            if mine && self.requester_target.is_none() {
                self.requester_target = Some(user.profile.login.clone());
            }
        }
        self.push(target(&user, source, class)).await
    }

    async fn push(&mut self, t: NewTarget) -> Result<(), ResolveError> {
        match self.counts.iter_mut().find(|(c, _)| *c == t.classification) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((t.classification, 1)),
        }
        if t.source.starts_with("file:") && !t.classification.is_reset() {
            self.file_skips.push(t.clone());
        }
        self.page.push(t);
        if self.page.len() >= STAGE_PAGE {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ResolveError> {
        if self.page.is_empty() {
            return Ok(());
        }
        self.store
            .stage_targets(
                self.request_id,
                self.next_seq,
                &self.page,
                self.clock.now_ms(),
            )
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not stage targets");
                ResolveError::Store(e.to_string())
            })?;
        self.next_seq += self.page.len() as i64;
        self.page.clear();
        Ok(())
    }

    /// Every user of a paged list (group members, search results), page by page.
    async fn add_pages(&mut self, first: url::Url, source: &str) -> Result<(), ResolveError> {
        let mut url = Some(first);
        while let Some(u) = url {
            let page = self.okta.users_page(&u).await?;
            for entry in page.items {
                match entry {
                    Ok(user) => self.add(user, source).await?,
                    Err(m) => self.add_malformed(m, source).await?,
                }
            }
            url = page.next;
            // Past the limit the request is refused whatever the rest holds: stop paging.
            if self.over_limit() {
                self.cut_short |= url.is_some();
                break;
            }
        }
        Ok(())
    }
}

/// The row of a user whose entry could not be used: never reset.
fn malformed_target(
    m: &Malformed,
    source: &str,
    classification: TargetClass,
    detail: String,
) -> NewTarget {
    NewTarget {
        okta_id: m.id.clone(),
        login: m.login.clone(),
        source: source.to_string(),
        classification,
        detail,
        ..NewTarget::default()
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
        classification: class.class(),
        detail: class.to_string(),
    }
}

/// Resolves `specs` for request `request_id`, writing its targets to the store's staging area.
/// On success the caller creates the request from them (or discards them); on any refusal they
/// are discarded here, so nothing is left behind.
pub async fn resolve(
    okta: &dyn OktaApi,
    store: &dyn Store,
    request_id: &str,
    specs: &[TargetSpec],
    settings: ResolveSettings<'_>,
) -> Result<Resolution, ResolveError> {
    resolve_with_file(okta, store, request_id, specs, None, settings).await
}

/// [`resolve`], plus the rows of an uploaded file: a row naming nobody is skipped with its row
/// number instead of failing the request.
pub async fn resolve_with_file(
    okta: &dyn OktaApi,
    store: &dyn Store,
    request_id: &str,
    specs: &[TargetSpec],
    file: Option<&FileRows<'_>>,
    settings: ResolveSettings<'_>,
) -> Result<Resolution, ResolveError> {
    let result = resolve_staged(okta, store, request_id, specs, file, settings).await;
    if result.is_err() {
        if let Err(e) = store.discard_staged(request_id).await {
            tracing::warn!(request = request_id, error = %e, "could not discard staged targets");
        }
    }
    result
}

async fn resolve_staged(
    okta: &dyn OktaApi,
    store: &dyn Store,
    request_id: &str,
    specs: &[TargetSpec],
    file: Option<&FileRows<'_>>,
    settings: ResolveSettings<'_>,
) -> Result<Resolution, ResolveError> {
    let protect =
        Protection::load(okta, settings.protected_groups, settings.protected_logins).await?;
    let mut c = Collector {
        okta,
        store,
        clock: settings.clock,
        request_id,
        max: settings.max_targets,
        protect,
        identities: settings.requester_identities,
        seen: HashSet::new(),
        reset_ids: Vec::new(),
        counts: Vec::new(),
        file_skips: Vec::new(),
        requester_target: None,
        page: Vec::with_capacity(STAGE_PAGE),
        next_seq: 0,
        cut_short: false,
    };
    for spec in specs {
        if c.over_limit() {
            c.cut_short = true;
            break;
        }
        match spec {
            TargetSpec::GroupName(name) => {
                let groups = okta.groups_named(name).await?;
                match groups.as_slice() {
                    [] => return Err(ResolveError::GroupNotFound(name.clone())),
                    [g] => {
                        let first = okta.group_members_url(&g.id);
                        c.add_pages(first, &format!("group:{}", g.profile.name))
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
                let first = okta.group_members_url(&g.id);
                c.add_pages(first, &format!("group:{}", g.profile.name))
                    .await?;
            }
            TargetSpec::Search(expr) => {
                let first = okta.user_search_url(expr.as_str());
                match c.add_pages(first, &format!("search:{expr}")).await {
                    Err(ResolveError::Okta(OktaError::BadRequest { code, summary })) => {
                        return Err(ResolveError::SearchRefused {
                            search: expr.to_string(),
                            error_code: code,
                            summary,
                        })
                    }
                    other => other?,
                }
            }
            TargetSpec::User(UserRef::Id(id)) => {
                let source = format!("user:{id}");
                match okta.get_user_entry(id.as_str()).await? {
                    Some(Ok(u)) => c.add(u, &source).await?,
                    Some(Err(m)) => c.add_malformed(m, &source).await?,
                    None => return Err(ResolveError::UserNotFound(id.to_string())),
                }
            }
            TargetSpec::User(UserRef::Login(login)) => {
                let source = format!("user:{login}");
                match lookup_login(okta, login).await {
                    Ok(u) => c.add(u, &source).await?,
                    Err(ResolveError::Malformed(m)) => c.add_malformed(m, &source).await?,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    if let Some(f) = file {
        if c.over_limit() {
            c.cut_short = true;
        } else {
            rows::add_rows(&mut c, f).await?;
        }
    }
    let distinct = c.seen.len();
    if c.over_limit() {
        return Err(ResolveError::TooMany {
            count: distinct,
            limit: settings.max_targets,
            cut_short: c.cut_short,
        });
    }
    if let (true, Some(f)) = (c.reset_ids.is_empty(), file) {
        return Err(ResolveError::NothingToResetInFile {
            file: f.file.to_string(),
            breakdown: breakdown(&c.counts),
            reasons: crate::slack::render_file::first_reasons(&c.file_skips),
        });
    }
    if c.reset_ids.is_empty() {
        return Err(ResolveError::NothingToReset {
            resolved: distinct,
            breakdown: breakdown(&c.counts),
        });
    }
    c.flush().await?;
    let digest = snapshot_digest(c.reset_ids.iter().map(|s| &**s));
    Ok(Resolution {
        distinct,
        to_reset: c.reset_ids.len(),
        digest,
        requester_target: c.requester_target,
        counts: c.counts,
    })
}

/// "2 skipped: AD/LDAP-managed, 1 skipped: wrong status"
fn breakdown(counts: &[(TargetClass, usize)]) -> String {
    counts
        .iter()
        .map(|(c, n)| format!("{n} {}", c.label()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A login or an email: by path when the login can be a path segment, then by search. The
/// answer must carry the login or email asked for: a shortname can resolve to someone else.
async fn lookup_login(okta: &dyn OktaApi, asked: &str) -> Result<OktaUser, ResolveError> {
    if !asked.contains('/') {
        if let Some(u) = okta.get_user_entry(asked).await? {
            let u = u.map_err(ResolveError::Malformed)?;
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
        1 => found.remove(0).map_err(ResolveError::Malformed),
        n => Err(ResolveError::AmbiguousUser {
            asked: asked.to_string(),
            count: n,
        }),
    }
}
