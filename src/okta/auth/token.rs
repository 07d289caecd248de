//! The service app's access token: fetched with a signed client assertion, cached, renewed a
//! while before it expires and once after a 401. Concurrent callers share one renewal.
//!
//! DPoP: a call's proof (`iat`, `jti`, `ath`, the server's latest nonce) and its access token are
//! taken by [`OAuthApp::for_call`], which the client calls when the request is about to be sent,
//! after every wait (concurrency gate, rate-limit pacer, token renewal). A proof made before a
//! wait can reach Okta older than it accepts (RFC 9449 §11.1; Okta does not publish its window),
//! and a token picked before a renewal is the revoked one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::dpop::DpopKey;
use super::{CallAuth, SigningKey};
use crate::clock::Clock;
use crate::okta::error::OktaError;
use crate::secret::{ExposeSecret, Secret};

/// Assertions live five minutes (Okta accepts at most an hour).
const ASSERTION_TTL_SECS: i64 = 300;
/// Renew when less than this much of the token's life is left (or a quarter of a short life).
const RENEW_MARGIN_MS: i64 = 5 * 60 * 1000;
/// Token-endpoint exchanges per renewal: the DPoP dance needs up to three.
const MAX_EXCHANGES: usize = 4;

pub struct OAuthSettings {
    pub client_id: String,
    pub token_url: Url,
    pub scopes: Vec<String>,
    pub key: SigningKey,
    pub max_retries: u32,
    /// `okta.oauth.dpop`: the app requires DPoP, so the first token request carries a proof
    /// (rather than learning it from a 400 each time the process starts).
    pub dpop: bool,
}

pub struct OAuthApp {
    settings: OAuthSettings,
    clock: Arc<dyn Clock>,
    dpop_key: DpopKey,
    state: tokio::sync::Mutex<State>,
    /// Id of the current token, so a 401 renews only the token it was answered for.
    issued: AtomicU64,
}

#[derive(Default)]
struct State {
    token: Option<Token>,
    /// Configured, or learned from the token endpoint (kept for every later renewal).
    use_dpop: bool,
    /// The token endpoint's latest `DPoP-Nonce`.
    nonce: Option<String>,
    /// The API's latest `DPoP-Nonce`, if it sends one (a resource server may; RFC 9449 §9).
    api_nonce: Option<String>,
}

struct Token {
    id: u64,
    value: Secret,
    dpop: bool,
    renew_at: i64,
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: i64,
}

#[derive(Deserialize, Default)]
struct OAuthErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

impl OAuthApp {
    pub fn new(settings: OAuthSettings, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let use_dpop = settings.dpop;
        Ok(Self {
            settings,
            clock,
            dpop_key: DpopKey::generate()?,
            state: tokio::sync::Mutex::new(State {
                use_dpop,
                ..State::default()
            }),
            issued: AtomicU64::new(0),
        })
    }

    /// The headers for one API call, made now: call it when the request is about to be sent.
    pub(super) async fn for_call(
        &self,
        http: &reqwest::Client,
        method: &str,
        url: &Url,
    ) -> Result<CallAuth, OktaError> {
        let mut st = self.state.lock().await;
        let now = self.clock.now_ms();
        if st.token.as_ref().is_none_or(|t| now >= t.renew_at) {
            self.fetch(http, &mut st).await?;
        }
        let t = st.token.as_ref().expect("just fetched");
        let (scheme, dpop) = if t.dpop {
            let proof = self
                .dpop_key
                .proof(
                    method,
                    url,
                    now / 1000,
                    st.api_nonce.as_deref(),
                    Some(t.value.expose_secret()),
                )
                .map_err(OktaError::Protocol)?;
            ("DPoP", Some(proof))
        } else {
            ("Bearer", None)
        };
        Ok(CallAuth {
            authorization: Secret::from(format!("{scheme} {}", t.value.expose_secret())),
            dpop,
            token_id: t.id,
        })
    }

    /// Keeps the API's latest `DPoP-Nonce` for the next proofs; `true` if it is a new one.
    pub(super) async fn api_nonce(&self, nonce: &str) -> bool {
        let mut st = self.state.lock().await;
        if st.api_nonce.as_deref() == Some(nonce) {
            return false;
        }
        st.api_nonce = Some(nonce.to_string());
        true
    }

    /// Renews the token unless someone already replaced the one that got the 401.
    pub(super) async fn renew(
        &self,
        http: &reqwest::Client,
        token_id: u64,
    ) -> Result<(), OktaError> {
        let mut st = self.state.lock().await;
        if st.token.as_ref().is_some_and(|t| t.id != token_id) {
            return Ok(());
        }
        st.token = None;
        self.fetch(http, &mut st).await
    }

    async fn fetch(&self, http: &reqwest::Client, st: &mut State) -> Result<(), OktaError> {
        let s = &self.settings;
        let mut transport_failures = 0u32;
        for _ in 0..MAX_EXCHANGES + s.max_retries as usize {
            let now = self.clock.now_ms();
            let assertion = s
                .key
                .sign(&Assertion {
                    iss: &s.client_id,
                    sub: &s.client_id,
                    aud: s.token_url.as_str(),
                    iat: now / 1000,
                    exp: now / 1000 + ASSERTION_TTL_SECS,
                    jti: super::random_jti(),
                })
                .map_err(|e| {
                    OktaError::Protocol(format!("cannot sign the client assertion: {e}"))
                })?;
            let scope = s.scopes.join(" ");
            let form = [
                ("grant_type", "client_credentials"),
                ("scope", scope.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", assertion.as_str()),
            ];
            let mut req = http
                .post(s.token_url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .header(
                    reqwest::header::USER_AGENT,
                    crate::okta::client::user_agent(),
                )
                .form(&form);
            if st.use_dpop {
                let proof = self
                    .dpop_key
                    .proof("POST", &s.token_url, now / 1000, st.nonce.as_deref(), None)
                    .map_err(OktaError::Protocol)?;
                req = req.header("DPoP", proof);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    transport_failures += 1;
                    if transport_failures > s.max_retries {
                        return Err(OktaError::Transport(e.without_url().to_string()));
                    }
                    tokio::time::sleep(Duration::from_millis(250 << transport_failures.min(5)))
                        .await;
                    continue;
                }
            };
            let status = resp.status();
            let nonce = resp
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = resp.bytes().await.unwrap_or_default();
            if status.is_success() {
                let a: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
                    OktaError::Protocol(format!("cannot read the token endpoint's answer: {e}"))
                })?;
                let life_ms = a.expires_in.max(1) * 1000;
                let id = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                st.token = Some(Token {
                    id,
                    value: Secret::from(a.access_token),
                    dpop: a.token_type.eq_ignore_ascii_case("DPoP"),
                    renew_at: now + life_ms - RENEW_MARGIN_MS.min(life_ms / 4),
                });
                tracing::info!(
                    expires_in = a.expires_in,
                    dpop = st.use_dpop,
                    "Okta issued an access token to the service app"
                );
                return Ok(());
            }
            if status.is_server_error() {
                transport_failures += 1;
                if transport_failures > s.max_retries {
                    return Err(OktaError::Server {
                        status: status.as_u16(),
                        code: "token endpoint".into(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(250 << transport_failures.min(5))).await;
                continue;
            }
            let err: OAuthErrorBody = serde_json::from_slice(&body).unwrap_or_default();
            match err.error.as_str() {
                // The app requires DPoP and we sent none: start the exchange.
                "invalid_dpop_proof" if !st.use_dpop => st.use_dpop = true,
                // The server wants its nonce in the proof: take it and sign again.
                "use_dpop_nonce" if nonce.is_some() => {
                    st.use_dpop = true;
                    st.nonce = nonce;
                }
                _ => {
                    return Err(OktaError::AuthRefused {
                        error: err.error,
                        description: err.error_description,
                    })
                }
            }
        }
        Err(OktaError::AuthRefused {
            error: "invalid_dpop_proof".into(),
            description: "the DPoP nonce exchange with the token endpoint did not settle".into(),
        })
    }
}
