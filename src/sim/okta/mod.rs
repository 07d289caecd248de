//! Simulated Okta org: a real HTTP server on 127.0.0.1 that answers like Okta's management API.
//!
//! Used by the demo, the integration tests and the benchmarks. It implements what okta-reset calls:
//! single user by id or login, user search, group search, group members (paged with `Link`
//! headers), admin role assignees, a user's role assignments (direct and through groups) and
//! `lifecycle/reset_password`, with Okta's error bodies,
//! `X-Rate-Limit-*` headers, per-bucket windows, a concurrency limit, injected latency and 5xx.
//!
//! Files: [`org`] (data and the demo org), [`search`] (filter expressions), [`ratelimit`],
//! [`test_keys`] (service-app key pairs generated at run time),
//! `routes` (the handlers) and `render` (JSON shapes and error bodies).

pub mod factors;
pub mod malform;
pub mod oauth;
pub mod oidc;
pub mod org;
pub mod ratelimit;
mod render;
mod routes;
pub mod search;
pub mod system_log;
#[cfg(test)]
mod system_log_tests;
pub mod test_keys;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::oneshot;

pub use malform::Malform;
pub use oauth::SimOAuthApp;
pub use org::{okta_id, SimGroup, SimOrg, SimUser, RESETTABLE_STATUSES};
pub use ratelimit::{Bucket, BucketLimits};

/// How the simulated org behaves.
#[derive(Debug, Clone)]
pub struct OktaSimConfig {
    /// Expected in `Authorization: SSWS <api_token>`.
    pub api_token: String,
    /// Rate-limit window.
    pub window: Duration,
    /// Calls per bucket per window.
    pub limits: BucketLimits,
    /// More requests than this in flight at once get a concurrency 429.
    pub concurrency_limit: usize,
    /// Mean latency added to each call (slept while the call counts as in flight).
    pub latency: Duration,
    /// Latency varies by up to ± this much, uniformly.
    pub jitter: Duration,
    /// Share of calls answered 500 E0000009 before anything else happens.
    pub error_rate_5xx: f64,
    /// Seed of the RNG behind latency jitter and 5xx injection.
    pub seed: u64,
    /// Largest `limit` honoured on paged endpoints (larger values are capped).
    pub page_limit_max: usize,
    /// OAuth service apps that may get tokens at `/oauth2/v1/token`.
    pub oauth_apps: Vec<SimOAuthApp>,
    /// The oldest DPoP proof accepted, by its `iat` (whole seconds), at the token endpoint and
    /// on API calls. RFC 9449 leaves the window to the server; Okta does not publish its own.
    pub dpop_proof_max_age: Duration,
    /// How long an event takes to show in the System Log (`GET /api/v1/logs`).
    pub log_lag: Duration,
}

impl Default for OktaSimConfig {
    fn default() -> Self {
        OktaSimConfig {
            api_token: "sim-okta-token".to_string(),
            window: Duration::from_secs(60),
            limits: BucketLimits::default(),
            concurrency_limit: 75,
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate_5xx: 0.0,
            seed: 0,
            page_limit_max: 200,
            oauth_apps: Vec::new(),
            dpop_proof_max_age: Duration::from_secs(60),
            log_lag: Duration::ZERO,
        }
    }
}

/// One accepted `lifecycle/reset_password` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetCall {
    pub user_id: String,
    pub send_email: bool,
    pub revoke_sessions: bool,
    pub at: SystemTime,
    /// The `X-Okta-Request-Id` the sim answered with (the System Log correlation key).
    pub request_id: String,
    pub user_agent: Option<String>,
    /// `X-Okta-Retry-For` / `X-Okta-Retry-Count`, when the call was a retry.
    pub retry_for: Option<String>,
    pub retry_count: Option<String>,
}

/// One accepted `DELETE /api/v1/users/{id}/sessions` call (Okta's `revokeUserSessions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    pub user_id: String,
    pub oauth_tokens: bool,
    pub forget_devices: bool,
    pub at: SystemTime,
}

/// Per-bucket counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketCounts {
    pub users_post: u64,
    pub users_get: u64,
    pub users_list: u64,
    pub groups: u64,
    pub group_by_id: u64,
    pub other: u64,
    pub users_sessions: u64,
}

impl BucketCounts {
    pub fn get(&self, bucket: Bucket) -> u64 {
        match bucket {
            Bucket::UsersPost => self.users_post,
            Bucket::UsersGet => self.users_get,
            Bucket::UsersList => self.users_list,
            Bucket::Groups => self.groups,
            Bucket::GroupById => self.group_by_id,
            Bucket::Other => self.other,
            Bucket::UsersSessions => self.users_sessions,
        }
    }

    fn bump(&mut self, bucket: Bucket) {
        match bucket {
            Bucket::UsersPost => self.users_post += 1,
            Bucket::UsersGet => self.users_get += 1,
            Bucket::UsersList => self.users_list += 1,
            Bucket::Groups => self.groups += 1,
            Bucket::GroupById => self.group_by_id += 1,
            Bucket::Other => self.other += 1,
            Bucket::UsersSessions => self.users_sessions += 1,
        }
    }
}

/// What the sim has seen so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Every request received, whatever the answer.
    pub total_calls: u64,
    /// Requests received per bucket, whatever the answer.
    pub calls: BucketCounts,
    /// 429s because a bucket was spent, in total and per bucket.
    pub rate_limited: u64,
    pub rate_limited_by_bucket: BucketCounts,
    /// 429s because too many requests were in flight.
    pub concurrency_limited: u64,
    /// 5xx answers (injected by error rate or by `fail_next_resets`).
    pub server_errors: u64,
    /// 401 answers, and those of them answered to a reset (`POST …/lifecycle/reset_password`).
    pub unauthorized: u64,
    pub unauthorized_resets: u64,
    /// Most requests in flight at once.
    pub peak_concurrency: usize,
    /// Requests to the OAuth token endpoint, and tokens it issued.
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// API calls refused for their DPoP proof.
    pub dpop_proofs_refused: u64,
}

/// Switches and counters, behind one lock.
struct Control {
    token_revoked: bool,
    resets_forbidden: bool,
    /// The token's admin has no admin role left: every call gets 403 E0000006.
    no_admin_role: bool,
    fail_next: Option<(usize, u16)>,
    /// `errorCode` and `errorSummary` for the `fail_next` answers (Okta's defaults when `None`).
    fail_next_body: Option<(String, String)>,
    /// The next revocations answer this status without revoking (count, status).
    fail_next_revocations: Option<(usize, u16)>,
    /// Revocations wait, unapplied, while this is on; released, they answer 503 unapplied
    /// (a caller that died meanwhile never got its revocation).
    revocations_held: bool,
    error_rate_5xx: f64,
    /// Reset calls are applied, then answered only after this long (a hanging Okta).
    hang_resets: Option<Duration>,
    rng: StdRng,
    limiter: ratelimit::RateLimiter,
    stats: SimStats,
    oauth: oauth::OAuthState,
    /// Misbehaviours a test can switch on (see the `OktaSim` methods of the same names).
    quirks: Quirks,
    /// Replaces `config.latency` when set.
    latency: Option<Duration>,
    /// Every distinct `User-Agent` seen on API calls.
    user_agents: std::collections::BTreeSet<String>,
}

/// Ways the sim can misbehave on purpose.
#[derive(Debug, Clone, Default)]
struct Quirks {
    omit_rate_headers: bool,
    link_host: Option<String>,
    omit_list_credentials: bool,
    /// User id → how its entries in lists (group members, searches) are spoilt.
    malformed_list: HashMap<String, Malform>,
    /// User id → how its single-user GET is spoilt.
    malformed_detail: HashMap<String, Malform>,
    /// User id → how its single-user GET is spoilt once a reset of that user was applied.
    malformed_detail_after_reset: HashMap<String, Malform>,
    /// Reset calls are applied and answered 200 with a body that is not JSON.
    garbled_reset_bodies: bool,
    /// The role reads (`iam/assignees/users`, `users/{id}/roles`) answer 403 E0000006.
    roles_forbidden: bool,
    /// From the first reset call on, every call takes this long (`set_latency` then).
    slow_from_first_reset: Option<Duration>,
    /// `GET /api/v1/logs` answers 403 E0000006 (a token without `okta.logs.read`).
    logs_forbidden: bool,
    /// Replaces `config.log_lag` when set.
    log_lag: Option<Duration>,
}

/// A group with its members as indexes into the id-sorted user list (so sorted by id too).
struct GroupRec {
    id: String,
    name: String,
    kind: String,
    members: Vec<u32>,
    /// Admin roles assigned to the group (held by every member).
    roles: Vec<String>,
}

/// The org's data, behind one lock.
struct Data {
    /// Sorted by id: cursors are "the last id of the page".
    users: Vec<SimUser>,
    by_login: HashMap<String, u32>,
    groups: Vec<GroupRec>,
    group_by_id: HashMap<String, usize>,
    status_changed: HashMap<u32, SystemTime>,
    reset_calls: Vec<ResetCall>,
    reset_counts: HashMap<String, usize>,
    revocations: Vec<Revocation>,
    /// Events in the order they happened (see [`system_log`]).
    system_log: Vec<system_log::LogEntry>,
}

impl Data {
    fn new(org: SimOrg) -> Data {
        let mut users = org.users;
        users.sort_by(|a, b| a.id.cmp(&b.id));
        users.dedup_by(|b, a| {
            let dup = a.id == b.id;
            if dup {
                tracing::warn!(id = %b.id, "sim okta: duplicate user id dropped");
            }
            dup
        });
        let by_login = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.login.to_lowercase(), i as u32))
            .collect();
        let mut groups = Vec::with_capacity(org.groups.len());
        let mut group_by_id = HashMap::new();
        for g in org.groups {
            let mut members: Vec<u32> = g
                .members
                .iter()
                .filter_map(|id| users.binary_search_by(|u| u.id.as_str().cmp(id)).ok())
                .map(|i| i as u32)
                .collect();
            members.sort_unstable();
            members.dedup();
            group_by_id.insert(g.id.clone(), groups.len());
            groups.push(GroupRec {
                id: g.id,
                name: g.name,
                kind: g.kind,
                members,
                roles: g.roles,
            });
        }
        Data {
            users,
            by_login,
            groups,
            group_by_id,
            status_changed: HashMap::new(),
            reset_calls: Vec::new(),
            reset_counts: HashMap::new(),
            revocations: Vec::new(),
            system_log: Vec::new(),
        }
    }

    fn user_index(&self, id: &str) -> Option<u32> {
        self.users
            .binary_search_by(|u| u.id.as_str().cmp(id))
            .ok()
            .map(|i| i as u32)
    }
}

struct Shared {
    config: OktaSimConfig,
    base_url: String,
    in_flight: Arc<ratelimit::InFlight>,
    ctl: Mutex<Control>,
    data: Mutex<Data>,
}

impl Shared {
    fn ctl(&self) -> MutexGuard<'_, Control> {
        self.ctl.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// How long a new System Log event takes to show.
    fn log_lag(&self) -> Duration {
        self.ctl().quirks.log_lag.unwrap_or(self.config.log_lag)
    }
}

struct ServerHandle {
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
}

impl ServerHandle {
    fn stop(&self) {
        let tx = self
            .shutdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A running simulated org. Cheap to clone; the server stops when the last clone is dropped or on
/// [`OktaSim::shutdown`].
#[derive(Clone)]
pub struct OktaSim {
    shared: Arc<Shared>,
    server: Arc<ServerHandle>,
    /// The OIDC authorization server and Okta Verify factors (step-up confirmations).
    oidc: oidc::SimOidc,
}

impl std::fmt::Debug for OktaSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaSim")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl OktaSim {
    /// Binds 127.0.0.1 on a free port and serves `org` until shut down.
    pub async fn start(org: SimOrg, config: OktaSimConfig) -> std::io::Result<OktaSim> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let control = Control {
            token_revoked: false,
            resets_forbidden: false,
            no_admin_role: false,
            fail_next: None,
            fail_next_body: None,
            fail_next_revocations: None,
            revocations_held: false,
            error_rate_5xx: config.error_rate_5xx,
            hang_resets: None,
            rng: StdRng::seed_from_u64(config.seed),
            limiter: ratelimit::RateLimiter::new(config.window, config.limits),
            stats: SimStats::default(),
            oauth: oauth::OAuthState::new(config.dpop_proof_max_age),
            quirks: Quirks::default(),
            latency: None,
            user_agents: Default::default(),
        };
        let logins = org
            .users
            .iter()
            .map(|u| (u.login.to_lowercase(), u.id.clone()))
            .collect();
        let oidc = oidc::SimOidc::new(&format!("http://{addr}"), logins);
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            config,
            in_flight: Arc::default(),
            ctl: Mutex::new(control),
            data: Mutex::new(Data::new(org)),
        });
        oidc.attach_api(&shared);
        let (tx, rx) = oneshot::channel::<()>();
        let app = oidc.router().merge(routes::router(shared.clone()));
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "sim okta server ended");
            }
        });
        Ok(OktaSim {
            shared,
            server: Arc::new(ServerHandle {
                shutdown: Mutex::new(Some(tx)),
            }),
            oidc,
        })
    }

    /// The OIDC authorization server (and Okta Verify factors) for step-up confirmations.
    pub fn oidc(&self) -> &oidc::SimOidc {
        &self.oidc
    }

    /// `http://127.0.0.1:PORT`, the org URL (the API lives under `/api/v1`).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn api_token(&self) -> &str {
        &self.shared.config.api_token
    }

    /// Every accepted reset, in order.
    pub fn reset_calls(&self) -> Vec<ResetCall> {
        self.shared.data().reset_calls.clone()
    }

    /// Successful resets of this user.
    pub fn reset_count(&self, user_id: &str) -> usize {
        self.shared
            .data()
            .reset_counts
            .get(user_id)
            .copied()
            .unwrap_or(0)
    }

    pub fn user_status(&self, user_id: &str) -> Option<String> {
        let data = self.shared.data();
        let i = data.user_index(user_id)?;
        Some(data.users[i as usize].status.clone())
    }

    /// Changes a user's status (e.g. to suspend someone between approval and execution).
    pub fn set_user_status(&self, user_id: &str, status: &str) -> bool {
        let mut data = self.shared.data();
        let Some(i) = data.user_index(user_id) else {
            return false;
        };
        data.users[i as usize].status = status.to_string();
        data.status_changed.insert(i, SystemTime::now());
        true
    }

    /// Changes a user's primary email (`profile.email`), where Okta sends their reset link.
    pub fn set_user_email(&self, user_id: &str, email: &str) -> bool {
        let mut data = self.shared.data();
        let Some(i) = data.user_index(user_id) else {
            return false;
        };
        data.users[i as usize].email = email.to_string();
        true
    }

    /// Assigns an admin role (e.g. `SUPER_ADMIN`) to a user directly.
    pub fn assign_user_role(&self, user_id: &str, role: &str) -> bool {
        let mut data = self.shared.data();
        let Some(i) = data.user_index(user_id) else {
            return false;
        };
        data.users[i as usize].roles.push(role.to_string());
        true
    }

    /// Assigns an admin role to a group: its members hold it through the group.
    pub fn assign_group_role(&self, group_id: &str, role: &str) -> bool {
        let mut data = self.shared.data();
        let Some(&g) = data.group_by_id.get(group_id) else {
            return false;
        };
        data.groups[g].roles.push(role.to_string());
        true
    }

    /// Adds a user to a group.
    pub fn add_to_group(&self, group_id: &str, user_id: &str) -> bool {
        let mut data = self.shared.data();
        let (Some(&g), Some(i)) = (data.group_by_id.get(group_id), data.user_index(user_id)) else {
            return false;
        };
        let members = &mut data.groups[g].members;
        if let Err(at) = members.binary_search(&i) {
            members.insert(at, i);
        }
        true
    }

    pub fn user_provider(&self, user_id: &str) -> Option<String> {
        let data = self.shared.data();
        let i = data.user_index(user_id)?;
        Some(data.users[i as usize].provider.clone())
    }

    /// Changes a user's credential provider (e.g. switched to a federated IdP).
    pub fn set_user_provider(&self, user_id: &str, provider: &str) -> bool {
        let mut data = self.shared.data();
        let Some(i) = data.user_index(user_id) else {
            return false;
        };
        data.users[i as usize].provider = provider.to_string();
        true
    }

    /// From now on (`true`) the role reads answer 403 E0000006, as for a token whose admin may
    /// not view roles; `false` restores them.
    pub fn forbid_role_reads(&self, forbidden: bool) {
        self.shared.ctl().quirks.roles_forbidden = forbidden;
    }

    /// The id of the user with this login (case-insensitive).
    pub fn user_id_by_login(&self, login: &str) -> Option<String> {
        let data = self.shared.data();
        let i = *data.by_login.get(&login.to_lowercase())?;
        Some(data.users[i as usize].id.clone())
    }

    /// Ids of every group with this name (case-insensitive).
    pub fn group_ids_named(&self, name: &str) -> Vec<String> {
        let name = name.to_lowercase();
        let data = self.shared.data();
        data.groups
            .iter()
            .filter(|g| g.name.to_lowercase() == name)
            .map(|g| g.id.clone())
            .collect()
    }

    pub fn stats(&self) -> SimStats {
        let ctl = self.shared.ctl();
        let mut stats = ctl.stats;
        stats.peak_concurrency = self.shared.in_flight.peak();
        stats.token_requests = ctl.oauth.token_requests;
        stats.tokens_issued = ctl.oauth.tokens_issued;
        stats.dpop_proofs_refused = ctl.oauth.proofs_refused;
        stats
    }

    /// The org's token endpoint (`aud` of client assertions).
    pub fn token_url(&self) -> String {
        format!("{}/oauth2/v1/token", self.shared.base_url)
    }

    /// Every access token issued so far expires now (the next API call gets 401).
    pub fn expire_tokens(&self) {
        self.shared.ctl().oauth.expire_all();
    }

    /// From now on API calls' DPoP proofs must carry a nonce the API hands out (RFC 9449 §9): a
    /// proof without the current one gets 401 `use_dpop_nonce` with the nonce in `DPoP-Nonce`.
    pub fn require_api_dpop_nonce(&self) {
        self.shared.ctl().oauth.api_nonce = Some(render::random_id(22));
    }

    /// From now on every call takes about `latency` (jitter as configured).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.ctl().latency = Some(latency);
    }

    /// From the first reset call on (that call included), every call takes about `latency`:
    /// the reads before it are answered at once, the reset and what follows it are slow.
    pub fn slow_from_first_reset(&self, latency: Duration) {
        self.shared.ctl().quirks.slow_from_first_reset = Some(latency);
    }

    /// From now on answers carry no `X-Rate-Limit-*` headers.
    pub fn omit_rate_headers(&self) {
        self.shared.ctl().quirks.omit_rate_headers = true;
    }

    /// From now on `Link: rel="next"` headers point at `host` instead of the org.
    pub fn send_links_to_host(&self, host: &str) {
        self.shared.ctl().quirks.link_host = Some(host.to_string());
    }

    /// From now on list entries (group members, searches) come without `credentials`.
    pub fn omit_list_credentials(&self) {
        self.shared.ctl().quirks.omit_list_credentials = true;
    }

    /// From now on `user_id`'s entries in group member lists and searches are spoilt by `how`.
    pub fn malform_list_entry(&self, user_id: &str, how: Malform) {
        self.shared
            .ctl()
            .quirks
            .malformed_list
            .insert(user_id.to_string(), how);
    }

    /// From now on `GET /api/v1/users/{user_id}` answers with the user spoilt by `how`.
    pub fn malform_user_detail(&self, user_id: &str, how: Malform) {
        self.shared
            .ctl()
            .quirks
            .malformed_detail
            .insert(user_id.to_string(), how);
    }

    /// Once a reset of `user_id` is applied, `GET /api/v1/users/{user_id}` answers with the user
    /// spoilt by `how` (what a run reading the user back after a lost answer gets).
    pub fn malform_user_detail_after_reset(&self, user_id: &str, how: Malform) {
        self.shared
            .ctl()
            .quirks
            .malformed_detail_after_reset
            .insert(user_id.to_string(), how);
    }

    /// From now on resets are applied and answered 200 with a body that is not JSON.
    pub fn garble_reset_bodies(&self) {
        self.shared.ctl().quirks.garbled_reset_bodies = true;
    }

    /// Every distinct `User-Agent` the API has seen.
    pub fn user_agents(&self) -> Vec<String> {
        self.shared.ctl().user_agents.iter().cloned().collect()
    }

    /// From now on every call gets 401 E0000011.
    pub fn revoke_token(&self) {
        self.shared.ctl().token_revoked = true;
    }

    /// From now on every call gets 403 E0000006: the admin who created the token lost their
    /// admin role (the token still authenticates, as in Okta).
    pub fn remove_admin_role(&self) {
        self.shared.ctl().no_admin_role = true;
    }

    /// From now on resets get 403 E0000006 (the token lacks the permission).
    pub fn forbid_resets(&self) {
        self.shared.ctl().resets_forbidden = true;
    }

    /// The next `n` reset calls answer `status` without resetting.
    pub fn fail_next_resets(&self, n: usize, status: u16) {
        let mut ctl = self.shared.ctl();
        ctl.fail_next = (n > 0).then_some((n, status));
        ctl.fail_next_body = None;
    }

    /// The next `n` reset calls answer `status` with this `errorCode` and `errorSummary`.
    pub fn fail_next_resets_saying(&self, n: usize, status: u16, code: &str, summary: &str) {
        let mut ctl = self.shared.ctl();
        ctl.fail_next = (n > 0).then_some((n, status));
        ctl.fail_next_body = Some((code.to_string(), summary.to_string()));
    }

    /// The next `n` session revocations answer `status` without revoking anything.
    pub fn fail_next_revocations(&self, n: usize, status: u16) {
        self.shared.ctl().fail_next_revocations = (n > 0).then_some((n, status));
    }

    /// While on, session revocations wait unapplied; once released, the held ones answer 503
    /// without revoking anything, and later ones are served as usual.
    pub fn hold_revocations(&self, held: bool) {
        self.shared.ctl().revocations_held = held;
    }

    /// Every accepted session revocation, in order.
    pub fn revocations(&self) -> Vec<Revocation> {
        self.shared.data().revocations.clone()
    }

    /// How many accepted session revocations named this user.
    pub fn revocation_count(&self, user_id: &str) -> usize {
        let data = self.shared.data();
        data.revocations
            .iter()
            .filter(|r| r.user_id == user_id)
            .count()
    }

    /// From now on each reset is applied but answered only after `delay` (`None`: at once): the
    /// worst kind of hang, where the caller cannot tell whether its call took effect.
    pub fn hang_resets(&self, delay: Option<Duration>) {
        self.shared.ctl().hang_resets = delay;
    }

    pub fn set_error_rate_5xx(&self, rate: f64) {
        self.shared.ctl().error_rate_5xx = rate.clamp(0.0, 1.0);
    }

    /// Another client spends `n` calls of the bucket's current window.
    pub fn consume_budget(&self, bucket: Bucket, n: u32) {
        self.shared.ctl().limiter.consume(bucket, n, Instant::now());
    }

    /// Stops the server (also when other clones exist). In-flight requests finish first.
    /// The System Log answers 403 E0000006, as for a token without `okta.logs.read`.
    pub fn forbid_log_reads(&self) {
        self.shared.ctl().quirks.logs_forbidden = true;
    }

    /// Events take this long to show in the System Log from now on.
    pub fn set_log_lag(&self, lag: Duration) {
        self.shared.ctl().quirks.log_lag = Some(lag);
    }

    /// Every System Log event so far (lag ignored).
    pub fn system_log(&self) -> Vec<system_log::LogEntry> {
        self.shared.data().system_log.clone()
    }

    /// The log catches up: every event so far shows from now on.
    pub fn catch_up_log(&self) {
        let now = SystemTime::now();
        for e in &mut self.shared.data().system_log {
            e.visible_at = e.visible_at.min(now);
        }
    }

    /// Writes an event as if another client had caused it (shown at once), e.g. a reset by an
    /// admin in the console, whose `User-Agent` names no request of the bot.
    pub fn log_event(&self, event_type: &str, target_id: &str, user_agent: &str) {
        self.shared
            .data()
            .system_log
            .push(system_log::LogEntry::new(
                event_type,
                target_id,
                Some(user_agent.to_string()),
                Duration::ZERO,
            ));
    }

    pub fn shutdown(self) {
        self.server.stop();
    }
}
