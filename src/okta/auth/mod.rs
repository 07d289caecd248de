//! How the bot proves who it is to Okta: an `SSWS` API token, or (recommended) an OAuth 2.0
//! service app — `client_credentials` with a `private_key_jwt` assertion, the access token cached
//! and renewed before it runs out, renewed once more after a 401, and DPoP-bound when the app
//! requires it (the `use_dpop_nonce` exchange).

pub mod dpop;
pub mod key;
mod token;
pub mod token_errors;

use std::sync::Arc;

use url::Url;

pub use key::{KeyError, SigningKey};
pub use token::{OAuthApp, OAuthSettings};

use super::error::OktaError;
use crate::secret::{ExposeSecret, Secret};

/// The scopes the bot asks for by default: reset, read users and groups, list admin-role holders.
pub const DEFAULT_SCOPES: [&str; 4] = [
    "okta.users.manage",
    "okta.users.read",
    "okta.groups.read",
    "okta.roles.read",
];

/// Read the System Log, to prove each run's resets there. Documented and recommended, but not in
/// [`DEFAULT_SCOPES`]: Okta refuses a token request naming a scope the app was not granted
/// (`invalid_scope`), so adding it by default would stop every deployment whose app lacks it.
/// Without it the bot still resets; the results' `confirmed_in_system_log` reads `unknown`.
pub const LOGS_SCOPE: &str = "okta.logs.read";

pub enum Auth {
    ApiToken(Secret),
    OAuth(Arc<OAuthApp>),
}

/// The headers that authenticate one call.
/// Made when the request is about to be sent (after every wait), never earlier: a DPoP proof
/// ages, and the token may be renewed meanwhile.
pub struct CallAuth {
    pub authorization: Secret,
    pub dpop: Option<String>,
    /// The access token used (to renew exactly that one after a 401).
    pub token_id: u64,
}

impl Auth {
    pub async fn for_call(
        &self,
        http: &reqwest::Client,
        method: &str,
        url: &Url,
    ) -> Result<CallAuth, OktaError> {
        match self {
            Auth::ApiToken(t) => Ok(CallAuth {
                authorization: Secret::from(format!("SSWS {}", t.expose_secret())),
                dpop: None,
                token_id: 0,
            }),
            Auth::OAuth(app) => app.for_call(http, method, url).await,
        }
    }

    /// The API answered with a `DPoP-Nonce`: later proofs carry it. `true` if it is new.
    pub async fn dpop_nonce(&self, nonce: &str) -> bool {
        match self {
            Auth::ApiToken(_) => false,
            Auth::OAuth(app) => app.api_nonce(nonce).await,
        }
    }

    /// After a 401: renew the token once (OAuth); `false` when there is nothing to renew.
    pub async fn renew_after_401(
        &self,
        http: &reqwest::Client,
        token_id: u64,
    ) -> Result<bool, OktaError> {
        match self {
            Auth::ApiToken(_) => Ok(false),
            Auth::OAuth(app) => app.renew(http, token_id).await.map(|_| true),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Auth::ApiToken(_) => "API token",
            Auth::OAuth(_) => "OAuth service app",
        }
    }
}

/// A random `jti` (assertions and proofs are single-use).
pub fn random_jti() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}
