//! Okta: the client (auth, retries, errorCode classification), the pacer (rate-limit budget),
//! and the reads built on it (who is protected, the System Log). Calls and their types only:
//! what a request's targets resolve to is the application layer's (`service::resolve`).

pub mod api;
pub mod auth;
pub mod client;
pub mod entry;
pub mod error;
pub mod gate;
pub mod model;
pub mod pacer;
pub mod protected;
pub mod system_log;

pub use api::OktaApi;
pub use client::OktaClient;
pub use error::OktaError;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::{OktaAuthConfig, OktaConfig, Secrets};

/// The Okta client `config` asks for: SSWS with the API token, or the OAuth service app with its
/// (already checked) key.
pub fn client_from_config(
    config: &OktaConfig,
    secrets: &Secrets,
    clock: Arc<dyn Clock>,
) -> Result<OktaClient, String> {
    let auth = match &config.auth {
        OktaAuthConfig::ApiToken => auth::Auth::ApiToken(secrets.okta_api_token.clone()),
        OktaAuthConfig::OAuth(o) => {
            let key = secrets
                .okta_signing_key
                .clone()
                .ok_or("the OAuth service app's private key was not loaded")?;
            let mut token_url = config.org_url.clone();
            token_url.set_path("/oauth2/v1/token");
            token_url.set_query(None);
            let app = auth::OAuthApp::new(
                auth::OAuthSettings {
                    client_id: o.client_id.clone(),
                    token_url,
                    scopes: o.scopes.clone(),
                    key,
                    max_retries: config.max_retries,
                    dpop: o.dpop,
                },
                clock.clone(),
            )?;
            auth::Auth::OAuth(Arc::new(app))
        }
    };
    OktaClient::new(
        config.org_url.clone(),
        auth,
        client::ClientSettings {
            call_timeout: Duration::from_secs(config.call_timeout_secs),
            max_retries: config.max_retries,
            concurrency: config.concurrency,
            max_share: config.max_share,
        },
        clock,
    )
    .map_err(|e| e.to_string())
}
