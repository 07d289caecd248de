//! The real Okta client: SSWS auth, retries with backoff, pacing from rate-limit headers, and
//! `Link` pagination that never leaves the org's host.

use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use url::Url;

use super::error::OktaError;
use super::model::{OktaErrorBody, OktaGroup, OktaUser};
use super::pacer::{bucket_of, Pacer, RateHeaders};
use crate::secret::Secret;

/// How many 429 waits one call accepts before giving up (each waits for a window reset).
const MAX_RATE_LIMIT_WAITS: u32 = 8;

pub struct OktaClient {
    http: reqwest::Client,
    org: Url,
    token: Secret,
    max_retries: u32,
    pacer: Pacer,
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
        token: Secret,
        call_timeout: Duration,
        max_retries: u32,
    ) -> Result<Self, OktaError> {
        let http = reqwest::Client::builder()
            .timeout(call_timeout)
            .connect_timeout(call_timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| OktaError::Transport(e.to_string()))?;
        Ok(Self {
            http,
            org,
            token,
            max_retries,
            pacer: Pacer::new(),
        })
    }

    fn api(&self, path_segments: &[&str]) -> Url {
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
    /// and waiting out 429s. Returns the body of a 2xx, or the classified error.
    async fn call(&self, method: Method, url: &Url) -> Result<Answer, OktaError> {
        let bucket = bucket_of(&method, url.path());
        let mut retries = 0u32;
        let mut waits = 0u32;
        let mut first_request_id: Option<String> = None;
        loop {
            self.pacer.wait(bucket).await;
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, format!("SSWS {}", self.token.expose()))
                .header(ACCEPT, "application/json")
                .header(
                    USER_AGENT,
                    concat!("okta-reset/", env!("CARGO_PKG_VERSION")),
                );
            if method == Method::POST {
                // Okta answers 411 to a POST without a length.
                req = req.header(CONTENT_LENGTH, "0").body(Vec::<u8>::new());
            }
            if let Some(id) = &first_request_id {
                req = req
                    .header("X-Okta-Retry-For", id)
                    .header("X-Okta-Retry-Count", (retries + waits).to_string());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    // A POST that timed out may have taken effect: a second reset would send a
                    // second email and void the first link, so it is not repeated blindly.
                    if method == Method::POST && e.is_timeout() {
                        return Err(OktaError::Transport(
                            "Okta did not answer in time; the reset may have happened, so it was not repeated".into(),
                        ));
                    }
                    if retries < self.max_retries {
                        retries += 1;
                        tokio::time::sleep(backoff(retries)).await;
                        continue;
                    }
                    return Err(OktaError::Transport(e.without_url().to_string()));
                }
            };
            let status = resp.status();
            let headers = resp.headers().clone();
            let rate = RateHeaders::parse(&headers);
            self.pacer.observe(bucket, status.as_u16(), &rate);
            if first_request_id.is_none() {
                first_request_id = request_id(&headers);
            }
            let body = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    if retries < self.max_retries {
                        retries += 1;
                        tokio::time::sleep(backoff(retries)).await;
                        continue;
                    }
                    return Err(OktaError::Transport(e.without_url().to_string()));
                }
            };
            if status.is_success() {
                return Ok(Answer { headers, body });
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                waits += 1;
                if waits > MAX_RATE_LIMIT_WAITS {
                    return Err(OktaError::RateLimited);
                }
                tracing::info!(
                    bucket,
                    "Okta answered 429; waiting for the rate-limit window"
                );
                continue;
            }
            if status.is_server_error() && retries < self.max_retries {
                retries += 1;
                tokio::time::sleep(backoff(retries)).await;
                continue;
            }
            let err: OktaErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            return Err(OktaError::classify(
                status.as_u16(),
                &err.error_code,
                &err.error_summary,
            ));
        }
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<(T, HeaderMap), OktaError> {
        let a = self.call(Method::GET, url).await?;
        let v = serde_json::from_slice(&a.body)
            .map_err(|e| OktaError::Protocol(format!("cannot read Okta's JSON: {e}")))?;
        Ok((v, a.headers))
    }

    /// `GET /api/v1/users/{idOrLogin}`; `None` when Okta has no such user.
    pub async fn get_user(&self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError> {
        match self.get_json(&self.api(&["users", id_or_login])).await {
            Ok((u, _)) => Ok(Some(u)),
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

    /// One page of users; `next` is followed only if it points at the org itself.
    pub async fn users_page(&self, url: &Url) -> Result<Page<OktaUser>, OktaError> {
        let (items, headers) = self.get_json::<Vec<OktaUser>>(url).await?;
        let next = match next_link(&headers) {
            Some(n) => {
                let n = Url::parse(&n)
                    .map_err(|e| OktaError::Protocol(format!("bad Link header: {e}")))?;
                if n.origin() != self.org.origin() {
                    return Err(OktaError::Protocol(format!(
                        "a Link header pointed to another host ({}); not followed",
                        n.host_str().unwrap_or("?")
                    )));
                }
                Some(n)
            }
            None => None,
        };
        Ok(Page { items, next })
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

    #[test]
    fn filter_values_escape_quotes_and_backslashes() {
        assert_eq!(escape_filter_value(r#"a"b\c"#), r#"a\"b\\c"#);
    }

    #[test]
    fn api_urls_encode_logins_as_one_path_segment() {
        let c = OktaClient::new(
            Url::parse("https://example.okta.com").unwrap(),
            Secret::new("t"),
            Duration::from_secs(1),
            0,
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
