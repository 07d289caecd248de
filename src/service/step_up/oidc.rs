//! The Okta side of `okta_oidc`: the issuer's discovery document and JWKS (cached; the JWKS is
//! fetched again once when a token names an unknown `kid`), the authorize URL (code + PKCE S256,
//! `max_age=0`), the code exchange with the client secret, and the ID token's checks.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use url::Url;

use crate::config::OidcConfig;
use crate::secret::{ExposeSecret, Secret};

/// Clock skew allowed between Okta and the bot on `auth_time` and `exp`.
pub const SKEW_MS: i64 = 30_000;

#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// What a valid ID token said about the sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub sub: String,
    /// Unix milliseconds.
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    /// SHA-256 (hex) of the ID token as received, for the audit log.
    pub id_token_sha256: String,
}

/// What the ID token must say.
pub struct Expect<'a> {
    pub okta_user: &'a str,
    pub nonce_hash: &'a str,
    /// The click (ms): the sign-in must be no older (less `SKEW_MS`).
    pub clicked_at: i64,
    pub now: i64,
}

pub struct Provider {
    http: reqwest::Client,
    pub config: OidcConfig,
    secret: Secret,
    pub redirect_uri: String,
    discovery: Mutex<Option<Discovery>>,
    keys: Mutex<HashMap<String, DecodingKey>>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    #[serde(default)]
    kid: Option<String>,
    kty: String,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    auth_time: Option<i64>,
    #[serde(default)]
    amr: Vec<String>,
    #[serde(default)]
    acr: Option<String>,
    exp: i64,
}

impl Provider {
    pub fn new(config: OidcConfig, secret: Secret, public_url: &Url) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Self {
            http,
            config,
            secret,
            redirect_uri: join(public_url, "auth/okta/callback"),
            discovery: Mutex::new(None),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// `{issuer}/.well-known/openid-configuration`, read once and kept.
    pub async fn discovery(&self) -> Result<Discovery, String> {
        let mut cached = self.discovery.lock().await;
        if let Some(d) = cached.as_ref() {
            return Ok(d.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let d: Discovery = self.get_json(&url, "the discovery document").await?;
        if d.issuer.trim_end_matches('/') != self.config.issuer {
            return Err(format!(
                "the discovery document at {url} names the issuer {}, not okta.oidc.issuer ({})",
                plain(&d.issuer),
                self.config.issuer
            ));
        }
        *cached = Some(d.clone());
        Ok(d)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        what: &str,
    ) -> Result<T, String> {
        let resp = self.http.get(url).send().await.map_err(|e| {
            format!(
                "{what} could not be read from {}: {}",
                plain(url),
                e.without_url()
            )
        })?;
        if !resp.status().is_success() {
            return Err(format!(
                "{what} at {} answered {}",
                plain(url),
                resp.status()
            ));
        }
        resp.json().await.map_err(|e| {
            format!(
                "{what} at {} is not usable: {}",
                plain(url),
                e.without_url()
            )
        })
    }

    /// Reads the JWKS again and returns how many RS256 keys it holds.
    pub async fn refresh_keys(&self) -> Result<usize, String> {
        let d = self.discovery().await?;
        let jwks: Jwks = self.get_json(&d.jwks_uri, "the JWKS").await?;
        let mut keys = HashMap::new();
        for k in jwks.keys {
            if let (Some(kid), "RSA", Some(n), Some(e)) = (k.kid, k.kty.as_str(), k.n, k.e) {
                if let Ok(key) = DecodingKey::from_rsa_components(&n, &e) {
                    keys.insert(kid, key);
                }
            }
        }
        let n = keys.len();
        *self.keys.lock().await = keys;
        Ok(n)
    }

    /// The authorize URL for one confirmation.
    pub async fn authorize_url(
        &self,
        state: &str,
        nonce: &str,
        verifier: &str,
        login_hint: &str,
    ) -> Result<Url, String> {
        let d = self.discovery().await?;
        let mut url = Url::parse(&d.authorization_endpoint)
            .map_err(|e| format!("the authorization_endpoint is not a URL: {e}"))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.config.client_id)
                .append_pair("response_type", "code")
                .append_pair("scope", "openid")
                .append_pair("redirect_uri", &self.redirect_uri)
                .append_pair("state", state)
                .append_pair("nonce", nonce)
                .append_pair("code_challenge", &pkce_challenge(verifier))
                .append_pair("code_challenge_method", "S256")
                // Okta must authenticate the person again, whatever session the browser has.
                .append_pair("max_age", "0")
                .append_pair("login_hint", login_hint);
            if let Some(acr) = &self.config.acr_values {
                q.append_pair("acr_values", acr);
            }
        }
        Ok(url)
    }

    /// Exchanges the code (client secret, PKCE verifier) and checks the ID token.
    pub async fn redeem(
        &self,
        code: &str,
        verifier: &str,
        expect: &Expect<'_>,
    ) -> Result<SignIn, String> {
        let d = self.discovery().await?;
        let resp = self
            .http
            .post(&d.token_endpoint)
            .basic_auth(&self.config.client_id, Some(self.secret.expose_secret()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", self.redirect_uri.as_str()),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(|e| {
                format!(
                    "Okta's token endpoint could not be reached: {}",
                    e.without_url()
                )
            })?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!(
                "Okta refused the sign-in code: {} ({})",
                plain(body["error"].as_str().unwrap_or("no error code")),
                plain(
                    body["error_description"]
                        .as_str()
                        .unwrap_or("no description")
                )
            ));
        }
        let Some(id_token) = body["id_token"].as_str() else {
            return Err("Okta's answer carried no ID token".into());
        };
        self.check_id_token(id_token, expect).await
    }

    /// Every check on the ID token: RS256 signature by a key of the issuer's JWKS, `iss`,
    /// `aud`, `exp`, `nonce`, `auth_time` not before the click, `sub`, and `acr` when configured.
    pub async fn check_id_token(&self, token: &str, expect: &Expect<'_>) -> Result<SignIn, String> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| format!("the ID token is not a JWT ({e})"))?;
        if header.alg != Algorithm::RS256 {
            return Err(format!(
                "the ID token is signed with {:?}, not RS256",
                header.alg
            ));
        }
        let kid = header
            .kid
            .ok_or("the ID token names no signing key (kid)")?;
        let key = match self.key(&kid).await {
            Some(k) => k,
            None => {
                // Okta rotates keys: one fresh read of the JWKS, then the key must be there.
                self.refresh_keys().await?;
                self.key(&kid).await.ok_or_else(|| {
                    format!(
                        "the ID token is signed with a key the issuer does not publish (kid {})",
                        plain(&kid)
                    )
                })?
            }
        };
        let d = self.discovery().await?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[&self.config.client_id]);
        v.set_issuer(&[&d.issuer]);
        // `exp` is checked below on the bot's clock (tests move it).
        v.validate_exp = false;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::InvalidSignature => "the ID token's signature is not valid".to_string(),
                ErrorKind::InvalidAudience => format!(
                    "the ID token is for another app (aud is not {})",
                    self.config.client_id
                ),
                ErrorKind::InvalidIssuer => {
                    format!(
                        "the ID token comes from another issuer (iss is not {})",
                        d.issuer
                    )
                }
                _ => format!("the ID token is not valid ({e})"),
            }
        })?;
        let c = data.claims;
        if c.exp * 1000 + SKEW_MS < expect.now {
            return Err("the ID token has expired".into());
        }
        let nonce_ok = c
            .nonce
            .as_deref()
            .is_some_and(|n| sha256_hex(n.as_bytes()) == expect.nonce_hash);
        if !nonce_ok {
            return Err("the ID token's nonce does not match this confirmation".into());
        }
        if c.sub != expect.okta_user {
            return Err(format!(
                "a different Okta user signed in ({}), not the account bound to your Slack email ({}); nothing was recorded",
                plain(&c.sub),
                expect.okta_user
            ));
        }
        let auth_time = c
            .auth_time
            .ok_or("the ID token carries no auth_time, so a fresh sign-in is not proven")?
            * 1000;
        if auth_time + SKEW_MS < expect.clicked_at {
            return Err(
                "Okta did not sign you in again: the sign-in it reports is older than your click"
                    .into(),
            );
        }
        if let Some(want) = &self.config.acr_values {
            if c.acr.as_deref() != Some(want.as_str()) {
                return Err(format!(
                    "the sign-in did not meet the required assurance (acr {} instead of {want})",
                    plain(c.acr.as_deref().unwrap_or("none"))
                ));
            }
        }
        Ok(SignIn {
            sub: c.sub,
            auth_time,
            amr: c.amr,
            acr: c.acr,
            id_token_sha256: sha256_hex(token.as_bytes()),
        })
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.lock().await.get(kid).cloned()
    }
}

/// `{base}/{path}` keeping any path prefix the base URL has.
pub fn join(base: &Url, path: &str) -> String {
    format!("{}/{path}", base.as_str().trim_end_matches('/'))
}

pub fn pkce_challenge(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// 32 random bytes, base64url: tokens, `state`, `nonce`, PKCE verifiers.
pub fn random_token() -> String {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .expect("the system's random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Text from Okta (or from a URL anyone can craft) made safe for both the HTML page and Slack:
/// no `<`, `>` or `&` (no mention, link or entity), no control characters, at most 200 chars.
pub fn plain(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '<' | '>' | '&') && !c.is_control())
        .take(200)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn okta_text_cannot_mention_link_or_escape() {
        assert_eq!(
            super::plain("<!channel> & <https://evil|click>\n"),
            "!channel  https://evil|click"
        );
        assert_eq!(super::plain(&"x".repeat(500)).len(), 200);
    }
}
