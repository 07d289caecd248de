//! The real Okta client: SSWS or OAuth service-app auth, pacing by bucket (rate-limit budget and
//! an adaptive concurrency gate), retries with backoff and jitter, and `Link` pagination that never
//! leaves the org's host. Every call names the bot's request in its `User-Agent`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::Auth;
use super::entry::{parse_user, Malformed, Strictness};
use super::error::OktaError;
use super::gate::Gate;
use super::model::{OktaErrorBody, OktaGroup, OktaUser};
use super::pacer::{bucket_of, Pacer, RateHeaders};
use crate::clock::Clock;
use crate::secret::ExposeSecret;

/// How many 429 waits one call accepts before giving up (each waits for a window reset).
const MAX_RATE_LIMIT_WAITS: u32 = 8;

tokio::task_local! {
    /// The bot's request a call is made for (`R-…`), for the `User-Agent` Okta's System Log shows.
    static REQUEST: String;
}

/// Runs `f` with every Okta call inside it naming request `id` in its `User-Agent`.
pub fn for_request<F: std::future::Future>(
    id: impl Into<String>,
    f: F,
) -> tokio::task::futures::TaskLocalFuture<String, F> {
    REQUEST.scope(id.into(), f)
}

/// `okta-reset/<version> (request R-…)`, or without the request outside one.
pub fn user_agent() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match REQUEST.try_with(|r| r.clone()) {
        Ok(r) => format!("okta-reset/{version} (request {r})"),
        Err(_) => format!("okta-reset/{version}"),
    }
}

/// How the client paces and retries.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    pub call_timeout: Duration,
    pub max_retries: u32,
    pub concurrency: usize,
    pub max_share: f64,
}

pub struct OktaClient {
    http: reqwest::Client,
    org: Url,
    auth: Auth,
    max_retries: u32,
    pacer: Pacer,
    clock: Arc<dyn Clock>,
    /// The last answer (or silence), for `/readyz`.
    pub contact: crate::metrics::OktaContact,
    gate: Gate,
    stats: Counters,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    concurrency_limited: AtomicU64,
    renewals: AtomicU64,
    resigned: AtomicU64,
}

/// What the client has done so far (for the benchmark and the logs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent to the API (retries included, token requests excluded).
    pub calls: u64,
    /// Requests repeated after a 5xx, a timeout or a connection error.
    pub retries: u64,
    /// 429s for a spent bucket.
    pub rate_limited: u64,
    /// 429s for Okta's concurrency limit.
    pub concurrency_limited: u64,
    /// Token renewals forced by a 401.
    pub renewals: u64,
    /// Calls that waited for a rate-limit window (spent or paused), not merely spaced out.
    pub window_waits: u64,
    /// Calls sent again with a new DPoP proof after Okta refused one (or sent a new nonce).
    pub resigned: u64,
}

/// One page of a paginated list, and the next page's URL if there is one.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Url>,
}

/// A completed reset: Okta's request id, the key to its System Log events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetDone {
    pub okta_request_id: Option<String>,
}

struct Answer {
    headers: HeaderMap,
    body: bytes::Bytes,
}

impl OktaClient {
    pub fn new(
        org: Url,
        auth: Auth,
        settings: ClientSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OktaError> {
        let http = reqwest::Client::builder()
            .timeout(settings.call_timeout)
            .connect_timeout(settings.call_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OktaError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            org,
            contact: Default::default(),
            auth,
            max_retries: settings.max_retries,
            pacer: Pacer::new(clock.clone(), settings.max_share),
            clock,
            gate: Gate::new(settings.concurrency),
            stats: Counters::default(),
        })
    }

    /// The time on the client's clock (the pacer's), in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.stats;
        ClientStats {
            calls: c.calls.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            concurrency_limited: c.concurrency_limited.load(Ordering::Relaxed),
            renewals: c.renewals.load(Ordering::Relaxed),
            window_waits: self.pacer.window_waits(),
            resigned: c.resigned.load(Ordering::Relaxed),
        }
    }

    /// Calls allowed in flight at once right now (lowered after a concurrency 429).
    pub fn concurrency(&self) -> usize {
        self.gate.limit()
    }

    pub(super) fn api(&self, path_segments: &[&str]) -> Url {
        let mut url = self.org.clone();
        {
            let mut seg = url.path_segments_mut().expect("org URL is a base");
            seg.pop_if_empty();
            seg.extend(["api", "v1"]);
            seg.extend(path_segments);
        }
        url
    }

    /// Sends one call, retrying 5xx and transport failures with exponential backoff and jitter,
    /// waiting out 429s, renewing an OAuth token once after a 401 and re-signing a refused DPoP
    /// proof once. Returns the body of a 2xx, or the classified error.
    async fn call(&self, method: Method, url: &Url) -> Result<Answer, OktaError> {
        self.call_with(method, url, None, Repeat::OnServerError)
            .await
    }

    /// [`Self::call`] with a JSON body (a POST's), e.g. a factor verification's. With
    /// [`Repeat::Never`] a 5xx or a lost answer is returned at once, never sent again: for a call
    /// that reaches a person (a push to their phone), where Okta may have acted before failing.
    async fn call_with(
        &self,
        method: Method,
        url: &Url,
        json_body: Option<&[u8]>,
        repeat: Repeat,
    ) -> Result<Answer, OktaError> {
        let bucket = bucket_of(&method, url.path());
        let mut retries = 0u32;
        let mut waits = 0u32;
        let mut renewed = false;
        let mut resigned = false;
        let mut first_request_id: Option<String> = None;
        loop {
            let permit = self.gate.acquire().await;
            let slot = self.pacer.acquire(bucket).await;
            // Only now, after every wait: the token in force and a proof made this instant.
            let auth = self.auth.for_call(&self.http, method.as_str(), url).await?;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, auth.authorization.expose_secret())
                .header(ACCEPT, "application/json")
                .header(USER_AGENT, user_agent());
            if let Some(proof) = &auth.dpop {
                req = req.header("DPoP", proof);
            }
            if let Some(body) = json_body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            } else if method == Method::POST {
                // Okta answers 411 to a POST without a length.
                req = req.header(CONTENT_LENGTH, "0").body(Vec::<u8>::new());
            }
            if let Some(id) = &first_request_id {
                req = req
                    .header("X-Okta-Retry-For", id)
                    .header("X-Okta-Retry-Count", (retries + waits).to_string());
            }
            self.stats.calls.fetch_add(1, Ordering::Relaxed);
            let sent = req.send().await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.contact.unreachable();
                    drop(slot);
                    drop(permit);
                    // A POST that timed out may have taken effect: a second reset would send a
                    // second email and void the first link, so it is not repeated blindly here;
                    // the run asks Okta first (jobs::recover::applied_since).
                    if method == Method::POST && e.is_timeout() {
                        return Err(OktaError::TimedOut);
                    }
                    if repeat == Repeat::OnServerError && retries < self.max_retries {
                        retries += 1;
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff(retries)).await;
                        continue;
                    }
                    return Err(OktaError::Transport(e.without_url().to_string()));
                }
            };
            let status = resp.status();
            self.contact.answered(status.as_u16());
            let headers = resp.headers().clone();
            let rate = RateHeaders::parse(&headers);
            slot.answered(status.as_u16(), &rate);
            if first_request_id.is_none() {
                first_request_id = request_id(&headers);
            }
            let new_nonce = match headers.get("dpop-nonce").and_then(|v| v.to_str().ok()) {
                Some(n) => self.auth.dpop_nonce(n).await,
                None => false,
            };
            let body = resp.bytes().await;
            drop(permit);
            let body = match body {
                Ok(b) => b,
                Err(e) => {
                    if repeat == Repeat::OnServerError && retries < self.max_retries {
                        retries += 1;
                        self.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(backoff(retries)).await;
                        continue;
                    }
                    return Err(OktaError::Transport(e.without_url().to_string()));
                }
            };
            if status == StatusCode::TOO_MANY_REQUESTS {
                waits += 1;
                if rate.is_concurrency_limit() {
                    self.stats
                        .concurrency_limited
                        .fetch_add(1, Ordering::Relaxed);
                    self.gate.lower();
                } else {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                }
                if waits > MAX_RATE_LIMIT_WAITS {
                    return Err(OktaError::RateLimited);
                }
                tracing::info!(
                    bucket,
                    "Okta answered 429; waiting for the rate-limit window"
                );
                continue;
            }
            self.gate.clean_call();
            if status.is_success() {
                return Ok(Answer { headers, body });
            }
            let refusal = auth
                .dpop
                .as_ref()
                .and_then(|_| dpop_refusal(status, &headers, &body));
            let nonce_refusal =
                auth.dpop.is_some() && new_nonce && matches!(status.as_u16(), 400 | 401);
            if (refusal.is_some() || nonce_refusal) && !resigned {
                // The proof is the bot's own making (its age, its nonce): sign a new one and send
                // the call once more; it is neither a retry nor the user's failure.
                resigned = true;
                self.stats.resigned.fetch_add(1, Ordering::Relaxed);
                tracing::info!(bucket, "Okta refused the DPoP proof; signing a new one");
                continue;
            }
            if let Some((error, description)) = refusal {
                // A fresh proof refused too: not about this user. Stop the run (systemic).
                return Err(OktaError::AuthRefused {
                    error: error.to_string(),
                    description,
                });
            }
            if status == StatusCode::UNAUTHORIZED && !renewed {
                renewed = true;
                if self.auth.renew_after_401(&self.http, auth.token_id).await? {
                    self.stats.renewals.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            if status.is_server_error()
                && repeat == Repeat::OnServerError
                && retries < self.max_retries
            {
                retries += 1;
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(backoff(retries)).await;
                continue;
            }
            let err: OktaErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            return Err(OktaError::classify(
                status.as_u16(),
                &err.error_code,
                &err.summary_with_causes(),
            ));
        }
    }

    pub(super) async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
    ) -> Result<(T, HeaderMap), OktaError> {
        let a = self.call(Method::GET, url).await?;
        let v = serde_json::from_slice(&a.body)
            .map_err(|e| OktaError::Protocol(format!("cannot read Okta's JSON: {e}")))?;
        Ok((v, a.headers))
    }

    /// `GET /api/v1/users/{idOrLogin}`; `None` when Okta has no such user. An answer lacking a
    /// field the bot reads (or with one of the wrong type) is an error naming the field.
    pub async fn get_user(&self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError> {
        match self.get_user_entry(id_or_login).await? {
            Some(Ok(u)) => Ok(Some(u)),
            Some(Err(m)) => Err(OktaError::Protocol(m.reason())),
            None => Ok(None),
        }
    }

    /// [`Self::get_user`], keeping a malformed answer apart from other failures, so the caller
    /// can fail that one user with the reason and go on.
    pub async fn get_user_entry(
        &self,
        id_or_login: &str,
    ) -> Result<Option<Result<OktaUser, Malformed>>, OktaError> {
        match self
            .get_json::<serde_json::Value>(&self.api(&["users", id_or_login]))
            .await
        {
            Ok((v, _)) => Ok(Some(parse_user(&v, Strictness::Detail))),
            Err(OktaError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Groups whose name equals `name` (Okta compares case-insensitively).
    pub async fn groups_named(&self, name: &str) -> Result<Vec<OktaGroup>, OktaError> {
        let mut url = self.api(&["groups"]);
        url.query_pairs_mut().append_pair(
            "search",
            &format!("profile.name eq \"{}\"", escape_filter_value(name)),
        );
        Ok(self.get_json(&url).await?.0)
    }

    pub async fn get_group(&self, id: &str) -> Result<Option<OktaGroup>, OktaError> {
        match self.get_json(&self.api(&["groups", id])).await {
            Ok((g, _)) => Ok(Some(g)),
            Err(OktaError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// First page of a group's members (200 a page).
    pub fn group_members_url(&self, group_id: &str) -> Url {
        let mut url = self.api(&["groups", group_id, "users"]);
        url.query_pairs_mut().append_pair("limit", "200");
        url
    }

    /// First page of a user search (`profile.email eq "…"` and the like).
    pub fn user_search_url(&self, expression: &str) -> Url {
        let mut url = self.api(&["users"]);
        url.query_pairs_mut()
            .append_pair("search", expression)
            .append_pair("limit", "200");
        url
    }

    /// One page of users; `next` is followed only if it points at the org itself. Each entry is
    /// read on its own: a malformed one is returned as such, with what could be read of it.
    pub async fn users_page(
        &self,
        url: &Url,
    ) -> Result<Page<Result<OktaUser, Malformed>>, OktaError> {
        let (values, headers) = self.get_json::<Vec<serde_json::Value>>(url).await?;
        let items = values
            .iter()
            .map(|v| parse_user(v, Strictness::ListEntry))
            .collect();
        let next = match next_link(&headers) {
            Some(n) => Some(self.same_org(&n, "a Link header")?),
            None => None,
        };
        Ok(Page { items, next })
    }

    /// A next-page URL, refused unless it is on the org's own host.
    fn same_org(&self, next: &str, what: &str) -> Result<Url, OktaError> {
        let n = Url::parse(next).map_err(|e| OktaError::Protocol(format!("bad {what}: {e}")))?;
        if n.origin() != self.org.origin() {
            return Err(OktaError::Protocol(format!(
                "{what} pointed to another host ({}); not followed",
                n.host_str().unwrap_or("?")
            )));
        }
        Ok(n)
    }

    /// Ids of every user holding an Okta admin role (`GET /api/v1/iam/assignees/users`, scope
    /// `okta.roles.read`), following `_links.next` on the org's host only.
    pub async fn admin_user_ids(&self) -> Result<std::collections::HashSet<String>, OktaError> {
        #[derive(serde::Deserialize)]
        struct Assignees {
            #[serde(default)]
            value: Vec<Assignee>,
            #[serde(rename = "_links", default)]
            links: Option<serde_json::Value>,
        }
        #[derive(serde::Deserialize)]
        struct Assignee {
            id: String,
        }
        let mut ids = std::collections::HashSet::new();
        let mut url = Some(self.api(&["iam", "assignees", "users"]));
        while let Some(u) = url {
            let (page, _) = self.get_json::<Assignees>(&u).await?;
            ids.extend(page.value.into_iter().map(|a| a.id));
            url = match page.links.as_ref().and_then(|l| l["next"]["href"].as_str()) {
                Some(n) => Some(self.same_org(n, "the admin role list's next link")?),
                None => None,
            };
        }
        Ok(ids)
    }

    /// `POST /api/v1/users/{id}/lifecycle/reset_password?sendEmail=true`. Okta emails the user a
    /// reset link; the bot never asks for the link itself (`sendEmail=false` would return it).
    pub async fn reset_password(
        &self,
        user_id: &str,
        revoke_sessions: bool,
    ) -> Result<ResetDone, OktaError> {
        let mut url = self.api(&["users", user_id, "lifecycle", "reset_password"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("sendEmail", "true");
            if revoke_sessions {
                q.append_pair("revokeSessions", "true");
            }
        }
        let a = self.call(Method::POST, &url).await?;
        Ok(ResetDone {
            okta_request_id: request_id(&a.headers),
        })
    }

    /// `DELETE /api/v1/users/{id}/sessions?oauthTokens=true&forgetDevices=true`
    /// (`revokeUserSessions`, scope `okta.users.manage`): ends every Okta session of the user,
    /// revokes the OIDC/OAuth tokens issued to them and forgets their remembered devices.
    /// Idempotent, so a 5xx or a timeout is simply retried (see `call_with`).
    pub async fn revoke_sessions(&self, user_id: &str) -> Result<(), OktaError> {
        let mut url = self.api(&["users", user_id, "sessions"]);
        url.query_pairs_mut()
            .append_pair("oauthTokens", "true")
            .append_pair("forgetDevices", "true");
        self.call(Method::DELETE, &url).await.map(|_| ())
    }
}

/// Whether a call may be sent again after a 5xx or a lost answer. A 429, a refused DPoP proof
/// and an expired token are always sent again: Okta did nothing with those.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeat {
    /// Reads, resets (journalled and read back) and idempotent deletes.
    OnServerError,
    /// A push to a phone: a second one would buzz the person twice.
    Never,
}

/// Whether an answer refuses the call's DPoP proof: `invalid_dpop_proof` or `use_dpop_nonce` in
/// Okta's error body (`errorCode`, or OAuth's `error`) or in `WWW-Authenticate` (RFC 9449 §7.1).
/// Returns the error and Okta's description.
fn dpop_refusal(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<(&'static str, String)> {
    if !matches!(status.as_u16(), 400 | 401) {
        return None;
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        #[serde(default)]
        error_code: String,
        #[serde(default)]
        error_summary: String,
        #[serde(default)]
        error: String,
        #[serde(default, rename = "error_description")]
        error_description: String,
    }
    let b: Body = serde_json::from_slice(body).unwrap_or_default();
    let challenge = headers
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let said = |e: &str| {
        b.error_code == e || b.error == e || challenge.contains(&format!("error=\"{e}\""))
    };
    let why = [b.error_summary.as_str(), b.error_description.as_str()]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("no reason given")
        .to_string();
    if said("use_dpop_nonce") {
        Some(("use_dpop_nonce", why))
    } else if said("invalid_dpop_proof") {
        Some(("invalid_dpop_proof", why))
    } else {
        None
    }
}

fn request_id(h: &HeaderMap) -> Option<String> {
    h.get("x-okta-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Exponential backoff with full jitter: up to 250 ms, 500 ms, 1 s, 2 s, … capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let cap = 250u64.saturating_mul(1 << attempt.min(5)).min(8_000);
    Duration::from_millis(rand::thread_rng().gen_range(cap / 2..=cap))
}

/// Escapes `\` and `"` inside a double-quoted Okta filter value.
pub fn escape_filter_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The `rel="next"` URL among the `Link` headers (one per header, or comma-separated).
pub fn next_link(h: &HeaderMap) -> Option<String> {
    for v in h.get_all(reqwest::header::LINK) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next()?.trim();
            let is_next = pieces.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                if let Some(u) = target.strip_prefix('<').and_then(|t| t.strip_suffix('>')) {
                    return Some(u.to_string());
                }
            }
        }
    }
    None
}

mod factors;
mod logs;
pub use factors::PushChallenge;
pub use logs::ResetEvent;

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, LINK};

    #[test]
    fn next_link_is_found_among_several_headers_or_in_one() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://o.okta.com/api/v1/groups/1/users?limit=200>; rel=\"self\"",
            ),
        );
        h.append(
            LINK,
            HeaderValue::from_static(
                "<https://o.okta.com/api/v1/groups/1/users?after=x&limit=200>; rel=\"next\"",
            ),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://o.okta.com/api/v1/groups/1/users?after=x&limit=200")
        );
        let mut one = HeaderMap::new();
        one.insert(
            LINK,
            HeaderValue::from_static(
                "<https://a/self>; rel=\"self\", <https://a/next>; rel=\"next\"",
            ),
        );
        assert_eq!(next_link(&one).as_deref(), Some("https://a/next"));
        let mut last = HeaderMap::new();
        last.insert(
            LINK,
            HeaderValue::from_static("<https://a/self>; rel=\"self\""),
        );
        assert_eq!(next_link(&last), None);
    }

    #[tokio::test]
    async fn the_user_agent_names_the_request_inside_its_scope() {
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(user_agent(), format!("okta-reset/{v}"));
        let inside = for_request("R-7K3M9QXD", async { user_agent() }).await;
        assert_eq!(inside, format!("okta-reset/{v} (request R-7K3M9QXD)"));
    }

    #[test]
    fn filter_values_escape_quotes_and_backslashes() {
        assert_eq!(escape_filter_value(r#"a"b\c"#), r#"a\"b\\c"#);
    }

    #[test]
    fn api_urls_encode_logins_as_one_path_segment() {
        let c = OktaClient::new(
            Url::parse("https://example.okta.com").unwrap(),
            Auth::ApiToken(crate::secret::Secret::from("t")),
            ClientSettings {
                call_timeout: Duration::from_secs(1),
                max_retries: 0,
                concurrency: 8,
                max_share: 0.8,
            },
            Arc::new(crate::clock::SystemClock),
        )
        .unwrap();
        assert_eq!(
            c.api(&["users", "a b@x.com"]).as_str(),
            "https://example.okta.com/api/v1/users/a%20b@x.com"
        );
        assert_eq!(
            c.api(&["users", "a/b"]).as_str(),
            "https://example.okta.com/api/v1/users/a%2Fb"
        );
    }
}
