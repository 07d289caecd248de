//! The simulated org's OAuth 2.0 authorization server for service apps: `POST /oauth2/v1/token`
//! with `client_credentials` and a `private_key_jwt` assertion (signature checked against the
//! app's registered public key; `aud`, `iss`, `sub`, `exp`, single-use `jti` checked), DPoP when
//! the app requires it (the `use_dpop_nonce` exchange), and checks of the tokens it issued on
//! API calls (expiry, scopes, DPoP binding and `ath`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::render::random_id;
use crate::okta::auth::dpop::{access_token_hash, thumbprint};

/// A service app registered in the simulated org.
#[derive(Debug, Clone)]
pub struct SimOAuthApp {
    pub client_id: String,
    /// PEM public key (RSA → RS256, EC P-256 → ES256).
    pub public_key_pem: String,
    pub require_dpop: bool,
    /// Scopes granted to the app.
    pub scopes: Vec<String>,
    pub token_ttl: Duration,
}

impl SimOAuthApp {
    /// An app with the RSA test key, the four scopes okta-reset needs and `okta.logs.read`.
    pub fn rsa(client_id: &str) -> Self {
        Self {
            client_id: client_id.to_string(),
            public_key_pem: super::test_keys::rsa_public().to_string(),
            require_dpop: false,
            scopes: crate::okta::auth::DEFAULT_SCOPES
                .iter()
                .chain([&crate::okta::auth::LOGS_SCOPE])
                .map(|s| s.to_string())
                .collect(),
            token_ttl: Duration::from_secs(3600),
        }
    }

    pub fn ec(client_id: &str) -> Self {
        Self {
            public_key_pem: super::test_keys::ec_public().to_string(),
            ..Self::rsa(client_id)
        }
    }

    pub fn dpop(mut self) -> Self {
        self.require_dpop = true;
        self
    }

    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    fn alg(&self) -> Algorithm {
        if DecodingKey::from_rsa_pem(self.public_key_pem.as_bytes()).is_ok() {
            Algorithm::RS256
        } else {
            Algorithm::ES256
        }
    }

    fn key(&self) -> Option<DecodingKey> {
        match self.alg() {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(self.public_key_pem.as_bytes()).ok(),
            _ => DecodingKey::from_ec_pem(self.public_key_pem.as_bytes()).ok(),
        }
    }
}

struct Issued {
    scopes: HashSet<String>,
    expires: Instant,
    /// DPoP-bound tokens: the thumbprint of the proof key.
    jkt: Option<String>,
}

/// Token-endpoint and token state.
#[derive(Default)]
pub(super) struct OAuthState {
    tokens: HashMap<String, Issued>,
    used_jti: HashSet<String>,
    /// `jti`s of DPoP proofs already accepted: a proof is good for one request (RFC 9449 §11.1).
    used_proof_jti: HashSet<String>,
    /// The oldest DPoP proof accepted, by its `iat` (`OktaSimConfig::dpop_proof_max_age`).
    pub(super) proof_max_age: Duration,
    nonce: Option<String>,
    /// When set, API calls' proofs must carry this nonce (RFC 9449 §9; see
    /// `OktaSim::require_api_dpop_nonce`).
    pub(super) api_nonce: Option<String>,
    /// DPoP proofs refused on API calls (stale, replayed, wrong key, …).
    pub(super) proofs_refused: u64,
    pub(super) token_requests: u64,
    pub(super) tokens_issued: u64,
}

impl OAuthState {
    pub(super) fn new(proof_max_age: Duration) -> Self {
        Self {
            proof_max_age,
            ..Self::default()
        }
    }

    /// Every token issued so far stops working (as if its hour ran out).
    pub(super) fn expire_all(&mut self) {
        let past = Instant::now() - Duration::from_secs(1);
        for t in self.tokens.values_mut() {
            t.expires = past;
        }
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        json!({"error": error, "error_description": description}).to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Claims of a JWT whose signature `key` must have made.
fn verified(jwt: &str, alg: Algorithm, key: &DecodingKey) -> Option<Value> {
    let mut v = Validation::new(alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    jsonwebtoken::decode::<Value>(jwt, key, &v)
        .ok()
        .map(|d| d.claims)
}

/// Checks a DPoP proof; returns the key's thumbprint and its `jti`.
fn check_proof(
    proof: &str,
    method: &str,
    htu: &str,
    ath: Option<&str>,
    nonce: Option<&str>,
    max_age: Duration,
) -> Result<(String, String), &'static str> {
    let header = jsonwebtoken::decode_header(proof).map_err(|_| "The DPoP proof is not a JWT.")?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err("The DPoP proof typ must be dpop+jwt.");
    }
    let jwk = header.jwk.ok_or("The DPoP proof has no jwk header.")?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "The DPoP proof jwk is not usable.")?;
    let claims = verified(proof, header.alg, &key).ok_or("The DPoP proof signature is invalid.")?;
    if claims["htm"] != method {
        return Err("The DPoP proof htm does not match the request.");
    }
    if claims["htu"] != htu {
        return Err("The DPoP proof htu does not match the request.");
    }
    let iat = claims["iat"].as_i64().ok_or("The DPoP proof has no iat.")?;
    // Older than the accepted age (whole seconds, as `iat` is), or made in the future beyond a
    // little clock skew.
    let age = now_secs() - iat;
    if age > max_age.as_secs() as i64 || age < -5 {
        return Err("The DPoP proof iat is too far from now.");
    }
    let jti = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty())
        .ok_or("The DPoP proof has no jti.")?
        .to_string();
    if let Some(ath) = ath {
        if claims["ath"] != ath {
            return Err("The DPoP proof ath does not match the access token.");
        }
    }
    if let Some(n) = nonce {
        if claims["nonce"] != n {
            return Err("use_dpop_nonce");
        }
    }
    let jkt = thumbprint(&jwk).ok_or("The DPoP proof key must be an EC P-256 key.")?;
    Ok((jkt, jti))
}

/// `POST /oauth2/v1/token`.
pub(super) fn token(
    apps: &[SimOAuthApp],
    st: &mut OAuthState,
    token_url: &str,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Response {
    st.token_requests += 1;
    let p = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    if p("grant_type") != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    if p("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed: client_assertion_type is missing or wrong.",
        );
    }
    let assertion = p("client_assertion");
    // Find the app by the (yet unverified) issuer, then verify with its registered key.
    let unverified = {
        let mut v = Validation::new(Algorithm::RS256);
        v.insecure_disable_signature_validation();
        v.required_spec_claims.clear();
        v.validate_exp = false;
        v.validate_aud = false;
        jsonwebtoken::decode::<Value>(assertion, &DecodingKey::from_secret(b""), &v)
            .ok()
            .map(|d| d.claims)
    };
    let Some(iss) = unverified.as_ref().and_then(|c| c["iss"].as_str()) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion is not a valid JWT.",
        );
    };
    let Some(app) = apps.iter().find(|a| a.client_id == iss) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_id is not registered.",
        );
    };
    let Some(claims) = app.key().and_then(|k| verified(assertion, app.alg(), &k)) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion signature is invalid.",
        );
    };
    if claims["aud"] != token_url {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The audience claim of the client_assertion is invalid.",
        );
    }
    if claims["sub"] != app.client_id.as_str() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The sub claim of the client_assertion must be the client_id.",
        );
    }
    let now = now_secs();
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp <= now {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion token is expired.",
        );
    }
    if exp > now + 3600 {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion token has an expiration too far into the future.",
        );
    }
    let jti = claims["jti"].as_str().unwrap_or("");
    if jti.is_empty() || !st.used_jti.insert(jti.to_string()) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion token has already been used (jti).",
        );
    }
    let asked: HashSet<String> = p("scope").split_whitespace().map(str::to_string).collect();
    let refused: Vec<&str> = asked
        .iter()
        .filter(|s| !app.scopes.contains(s))
        .map(String::as_str)
        .collect();
    if asked.is_empty() || !refused.is_empty() {
        let mut refused = refused;
        refused.sort_unstable();
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!(
                "The following scopes are not allowed: {}",
                refused.join(" ")
            ),
        );
    }
    let mut jkt = None;
    if app.require_dpop {
        let Some(proof) = headers.get("dpop").and_then(|v| v.to_str().ok()) else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_dpop_proof",
                "The DPoP proof JWT header is missing.",
            );
        };
        let nonce = st.nonce.get_or_insert_with(|| random_id(22)).clone();
        match check_proof(
            proof,
            "POST",
            token_url,
            None,
            Some(&nonce),
            st.proof_max_age,
        ) {
            Ok((t, _)) => jkt = Some(t),
            Err("use_dpop_nonce") => {
                let mut r = oauth_error(
                    StatusCode::BAD_REQUEST,
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof.",
                );
                if let Ok(v) = HeaderValue::from_str(&nonce) {
                    r.headers_mut().insert("dpop-nonce", v);
                }
                return r;
            }
            Err(why) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", why),
        }
    }
    let access = random_id(48);
    st.tokens.insert(
        access.clone(),
        Issued {
            scopes: asked.clone(),
            expires: Instant::now() + app.token_ttl,
            jkt: jkt.clone(),
        },
    );
    st.tokens_issued += 1;
    let mut scopes: Vec<&String> = asked.iter().collect();
    scopes.sort();
    let body = json!({
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": app.token_ttl.as_secs(),
        "access_token": access,
        "scope": scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
    });
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Why an API call's OAuth token is not accepted.
pub(super) enum Refusal {
    /// 401 E0000011.
    Invalid,
    /// 403 E0000006: the token lacks the scope.
    Scope,
    /// 400 `invalid_dpop_proof`: the token is good but its proof is not (stale, replayed, for
    /// another request or token, another key).
    Proof(&'static str),
    /// 401 `use_dpop_nonce` with this nonce in `DPoP-Nonce`: the proof lacks the API's nonce.
    Nonce(String),
}

/// Checks `Authorization: Bearer …` or `DPoP …` (with its proof) for an API call needing `scope`.
pub(super) fn check_token(
    st: &mut OAuthState,
    scheme: &str,
    token: &str,
    headers: &HeaderMap,
    method: &str,
    htu: &str,
    scope: &str,
) -> Result<(), Refusal> {
    let t = st.tokens.get(token).ok_or(Refusal::Invalid)?;
    if Instant::now() >= t.expires {
        return Err(Refusal::Invalid);
    }
    // `manage` implies `read`, as in Okta.
    let granted = |s: &str| t.scopes.contains(s);
    let scope_ok = granted(scope)
        || (scope == "okta.users.read" && granted("okta.users.manage"))
        || (scope == "okta.groups.read" && granted("okta.groups.manage"));
    match (t.jkt.clone(), scheme) {
        (None, "Bearer") => {}
        (Some(jkt), "DPoP") => {
            let proof = headers
                .get("dpop")
                .and_then(|v| v.to_str().ok())
                .ok_or(Refusal::Proof("The DPoP proof JWT header is missing."))?;
            let ath = access_token_hash(token);
            let nonce = st.api_nonce.clone();
            let checked = check_proof(
                proof,
                method,
                htu,
                Some(&ath),
                nonce.as_deref(),
                st.proof_max_age,
            )
            .and_then(|(k, jti)| {
                if k != jkt {
                    Err("The DPoP proof key is not the one the access token is bound to.")
                } else if !st.used_proof_jti.insert(jti) {
                    Err("The DPoP proof has already been used (jti).")
                } else {
                    Ok(())
                }
            });
            match (checked, nonce) {
                (Ok(()), _) => {}
                (Err("use_dpop_nonce"), Some(n)) => return Err(Refusal::Nonce(n)),
                (Err(why), _) => {
                    st.proofs_refused += 1;
                    return Err(Refusal::Proof(why));
                }
            }
        }
        _ => return Err(Refusal::Invalid),
    }
    if scope_ok {
        Ok(())
    } else {
        Err(Refusal::Scope)
    }
}
