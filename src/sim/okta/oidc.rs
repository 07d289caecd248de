//! The simulated org's OIDC: a custom authorization server at `/oauth2/default` with its
//! discovery document, `authorize` (it "signs in" whom the test chose, with the `auth_time`,
//! `amr` and `acr` the test chose, or answers `access_denied`), `token` (authorization code with
//! PKCE S256 and the client secret; refuses what Okta refuses: `invalid_client`, a reused or
//! unknown code, a redirect URI or PKCE verifier that does not match → `invalid_grant`) and
//! `keys` (the JWKS). Signing keys are generated at run time, once per process.
//!
//! A test can spoil the next ID tokens (`Tamper`) to drive the bot's checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The simulated OIDC Web app (registered at start).
pub const SIM_OIDC_CLIENT_ID: &str = "0oaSIMWEBAPP0000001";
pub const SIM_OIDC_CLIENT_SECRET: &str = "sim-oidc-client-secret";
/// Where the sim's Web app sends browsers back (the bot's `server.public_url` in tests).
pub const SIM_PUBLIC_URL: &str = "https://okta-reset.example.com";
const KID: &str = "sim-oidc-key-1";
const AS_PATH: &str = "/oauth2/default";

/// Who the next `authorize` signs in, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInChoice {
    /// The user with this login signs in. `auth_time` in Unix seconds (`None`: now).
    User {
        login: String,
        auth_time: Option<i64>,
        amr: Vec<String>,
        acr: Option<String>,
    },
    /// The person cancels, or the sign-on policy refuses them.
    Deny,
}

impl SignInChoice {
    /// `login` signs in now with a password and MFA.
    pub fn user(login: &str) -> Self {
        SignInChoice::User {
            login: login.to_string(),
            auth_time: None,
            amr: vec!["pwd".into(), "mfa".into(), "otp".into()],
            acr: None,
        }
    }
}

/// Ways to spoil the ID tokens the sim issues next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tamper {
    /// Signed with another key under the published `kid`.
    BadSignature,
    Audience(String),
    Issuer(String),
    /// `exp` an hour ago.
    Expired,
    Nonce(String),
    /// Signed under a `kid` the JWKS never lists.
    UnknownKid,
}

/// One `authorize` call as received (its query).
pub type AuthorizeCall = HashMap<String, String>;

struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    nonce: String,
    sub: String,
    auth_time: i64,
    amr: Vec<String>,
    acr: Option<String>,
    used: bool,
}

pub(super) struct OidcState {
    sign_in: SignInChoice,
    tamper: Option<Tamper>,
    codes: HashMap<String, Code>,
    authorize_calls: Vec<AuthorizeCall>,
    jwks_reads: u64,
    /// login (lower-case) → user id, from the org.
    pub(super) users: HashMap<String, String>,
    pub(super) factors: super::factors::FactorState,
}

/// Handle on the sim's OIDC state (cheap to clone).
#[derive(Clone)]
pub struct SimOidc {
    base_url: String,
    state: Arc<Mutex<OidcState>>,
    /// The management API's state, for its authorization rules (API token or OAuth token with
    /// the operation's scope) on the factor endpoints. Set once the API is up; weak, since the
    /// API's router holds this handle too.
    api: Arc<OnceLock<std::sync::Weak<super::Shared>>>,
}

struct Keys {
    good: EncodingKey,
    rogue: EncodingKey,
    jwk: Value,
}

/// The process's signing keys, generated on first use (RSA 2048).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        use rsa::traits::PublicKeyParts;
        let mut rng = rand::thread_rng();
        let gen = |rng: &mut rand::rngs::ThreadRng| {
            rsa::RsaPrivateKey::new(rng, 2048).expect("RSA key generation")
        };
        let good = gen(&mut rng);
        let rogue = gen(&mut rng);
        let enc = |k: &rsa::RsaPrivateKey| {
            EncodingKey::from_rsa_der(k.to_pkcs1_der().expect("PKCS#1").as_bytes())
        };
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = json!({
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": KID,
            "n": b64(good.n().to_bytes_be()), "e": b64(good.e().to_bytes_be()),
        });
        Keys {
            good: enc(&good),
            rogue: enc(&rogue),
            jwk,
        }
    })
}

impl SimOidc {
    pub(super) fn new(base_url: &str, users: HashMap<String, String>) -> Self {
        Self {
            base_url: base_url.to_string(),
            state: Arc::new(Mutex::new(OidcState {
                sign_in: SignInChoice::Deny,
                tamper: None,
                codes: HashMap::new(),
                authorize_calls: Vec::new(),
                jwks_reads: 0,
                users,
                factors: Default::default(),
            })),
            api: Arc::default(),
        }
    }

    pub(super) fn attach_api(&self, api: &Arc<super::Shared>) {
        let _ = self.api.set(Arc::downgrade(api));
    }

    /// The management API's refusal of this call, if it refuses it: the same rules as every
    /// other route (`routes::authorize`), with the operation's OAuth scope.
    pub(super) fn api_refusal(
        &self,
        headers: &axum::http::HeaderMap,
        method: &str,
        path: &str,
        scope: &str,
    ) -> Option<axum::response::Response> {
        let api = self.api.get().and_then(std::sync::Weak::upgrade)?;
        let mut ctl = api.ctl();
        if ctl.token_revoked {
            return Some(super::routes::refusal(
                axum::http::StatusCode::UNAUTHORIZED,
                None,
            ));
        }
        if let Err((status, proof)) =
            super::routes::authorize(&api, &mut ctl, headers, method, path, scope)
        {
            return Some(super::routes::refusal(status, proof));
        }
        // As on every other route: credentials whose admin holds no role get 403 E0000006.
        ctl.no_admin_role
            .then(|| super::routes::refusal(axum::http::StatusCode::FORBIDDEN, None))
    }

    pub(super) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(super) fn st(&self) -> std::sync::MutexGuard<'_, OidcState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The issuer the bot's `okta.oidc.issuer` names.
    pub fn issuer(&self) -> String {
        format!("{}{AS_PATH}", self.base_url)
    }

    /// Who every following `authorize` signs in (until changed).
    pub fn sign_in(&self, choice: SignInChoice) {
        self.st().sign_in = choice;
    }

    /// Spoils every following ID token (until `None`).
    pub fn tamper(&self, how: Option<Tamper>) {
        self.st().tamper = how;
    }

    pub fn authorize_calls(&self) -> Vec<AuthorizeCall> {
        self.st().authorize_calls.clone()
    }

    pub fn jwks_reads(&self) -> u64 {
        self.st().jwks_reads
    }

    pub(super) fn router(&self) -> Router {
        Router::new()
            .route(
                &format!("{AS_PATH}/.well-known/openid-configuration"),
                get(discovery),
            )
            .route(&format!("{AS_PATH}/v1/authorize"), get(authorize))
            .route(&format!("{AS_PATH}/v1/token"), post(token))
            .route(&format!("{AS_PATH}/v1/keys"), get(jwks))
            .with_state(self.clone())
            .merge(self.factor_routes())
    }
}

async fn discovery(State(s): State<SimOidc>) -> Json<Value> {
    let iss = s.issuer();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/v1/authorize"),
        "token_endpoint": format!("{iss}/v1/token"),
        "jwks_uri": format!("{iss}/v1/keys"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

async fn jwks(State(s): State<SimOidc>) -> Json<Value> {
    s.st().jwks_reads += 1;
    Json(json!({ "keys": [keys().jwk.clone()] }))
}

fn redirect_uri() -> String {
    format!("{SIM_PUBLIC_URL}/auth/okta/callback")
}

fn error_page(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, format!("Okta: {why}")).into_response()
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `GET /v1/authorize`: like Okta, a bad client or redirect URI is an error page (never a
/// redirect); other problems go back to the redirect URI as `error=…`.
async fn authorize(State(s): State<SimOidc>, Query(q): Query<HashMap<String, String>>) -> Response {
    let p = |k: &str| q.get(k).cloned().unwrap_or_default();
    let mut st = s.st();
    st.authorize_calls.push(q.clone());
    if p("client_id") != SIM_OIDC_CLIENT_ID {
        return error_page("invalid_client: the client_id is not known");
    }
    if p("redirect_uri") != redirect_uri() {
        return error_page("invalid_request: the redirect_uri is not registered for this app");
    }
    let back = |params: &[(&str, &str)]| -> Response {
        let mut u = url::Url::parse(&redirect_uri()).expect("redirect URI");
        u.query_pairs_mut().extend_pairs(params);
        (StatusCode::FOUND, [(header::LOCATION, u.to_string())]).into_response()
    };
    let state = p("state");
    let refuse =
        |e: &str, d: &str| back(&[("error", e), ("error_description", d), ("state", &state)]);
    if p("response_type") != "code" {
        return refuse("unsupported_response_type", "only code is allowed");
    }
    if !p("scope").split(' ').any(|x| x == "openid") {
        return refuse("invalid_scope", "openid is required");
    }
    if p("code_challenge").is_empty() || p("code_challenge_method") != "S256" {
        return refuse(
            "invalid_request",
            "PKCE code_challenge with S256 is required",
        );
    }
    if state.is_empty() {
        return refuse("invalid_request", "state is required");
    }
    let (login, auth_time, amr, acr) = match st.sign_in.clone() {
        SignInChoice::Deny => {
            return refuse(
                "access_denied",
                "The resource owner or authorization server denied the request.",
            )
        }
        SignInChoice::User {
            login,
            auth_time,
            amr,
            acr,
        } => (login, auth_time, amr, acr),
    };
    let Some(sub) = st.users.get(&login.to_lowercase()).cloned() else {
        return refuse(
            "access_denied",
            "the user is not assigned to the client application",
        );
    };
    let code = super::render::random_id(40);
    st.codes.insert(
        code.clone(),
        Code {
            client_id: p("client_id"),
            redirect_uri: p("redirect_uri"),
            challenge: p("code_challenge"),
            nonce: p("nonce"),
            sub,
            auth_time: auth_time.unwrap_or_else(now_secs),
            amr,
            acr,
            used: false,
        },
    );
    back(&[("code", &code), ("state", &state)])
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The client's id and secret from `Authorization: Basic` or the form.
fn client_auth(h: &HeaderMap, form: &HashMap<String, String>) -> Option<(String, String)> {
    if let Some(basic) = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, secret) = raw.split_once(':')?;
        return Some((id.to_string(), secret.to_string()));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

/// `POST /v1/token` (authorization_code).
async fn token(
    State(s): State<SimOidc>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    match client_auth(&headers, &form) {
        Some((id, secret)) if id == SIM_OIDC_CLIENT_ID && secret == SIM_OIDC_CLIENT_SECRET => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed.",
            )
        }
    }
    if f("grant_type") != "authorization_code" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    let mut st = s.st();
    let tamper = st.tamper.clone();
    let Some(code) = st.codes.get_mut(&f("code")) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The authorization code is invalid or has expired.",
        );
    };
    if code.used {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The authorization code is invalid or has expired.",
        );
    }
    // Okta spends the code on any exchange attempt.
    code.used = true;
    if code.client_id != SIM_OIDC_CLIENT_ID || code.redirect_uri != f("redirect_uri") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        );
    }
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(f("code_verifier").as_bytes()));
    if f("code_verifier").is_empty() || challenge != code.challenge {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "PKCE verification failed.",
        );
    }
    let now = now_secs();
    let mut claims = json!({
        "sub": code.sub,
        "ver": 1,
        "iss": s.issuer(),
        "aud": SIM_OIDC_CLIENT_ID,
        "iat": now,
        "exp": now + 3600,
        "jti": super::render::random_id(20),
        "amr": code.amr,
        "idp": "00oSIMORG",
        "nonce": code.nonce,
        "auth_time": code.auth_time,
    });
    if let Some(acr) = &code.acr {
        claims["acr"] = json!(acr);
    }
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(KID.into());
    let mut key = &keys().good;
    match tamper {
        None => {}
        Some(Tamper::BadSignature) => key = &keys().rogue,
        Some(Tamper::Audience(a)) => claims["aud"] = json!(a),
        Some(Tamper::Issuer(i)) => claims["iss"] = json!(i),
        Some(Tamper::Expired) => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Some(Tamper::Nonce(n)) => claims["nonce"] = json!(n),
        Some(Tamper::UnknownKid) => header.kid = Some("sim-oidc-key-unknown".into()),
    }
    let id_token = jsonwebtoken::encode(&header, &claims, key).expect("signs");
    Json(json!({
        "token_type": "Bearer",
        "expires_in": 3600,
        "access_token": super::render::random_id(40),
        "scope": "openid",
        "id_token": id_token,
    }))
    .into_response()
}
