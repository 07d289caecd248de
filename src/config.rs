//! Typed settings: a TOML file for everything that is not secret, the environment for secrets.
//! Read once at start-up, validated with messages that name the key and the fix, then passed down.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::domain::ids::{SlackChannelId, SlackTeamId, SlackUserGroupId, SlackUserId};
use crate::domain::policy::Allowlist;
use crate::secret::{ExposeSecret, Secret};

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub slack: SlackConfig,
    pub okta: OktaConfig,
    pub policy: PolicyConfig,
    pub store: StoreConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Inbound bodies above this are refused before they are read further.
    pub body_limit_bytes: usize,
    /// Where `/metrics` is served: `None` on `listen` itself.
    pub metrics_listen: Option<SocketAddr>,
    /// Where approvers' browsers reach the bot (`policy.step_up = "okta_oidc"`).
    pub public_url: Option<Url>,
}

#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub api_url: Url,
    pub team_id: SlackTeamId,
    pub channels: Vec<SlackChannelId>,
    /// How Slack reaches the bot: signed HTTP requests, or a WebSocket the bot opens.
    pub mode: SlackMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    #[default]
    Http,
    Socket,
}

#[derive(Debug, Clone)]
pub struct OktaConfig {
    pub org_url: Url,
    /// The admin console (System Log links): `okta.admin_url`, or derived from `org_url`.
    pub admin_url: Url,
    pub concurrency: usize,
    pub call_timeout_secs: u64,
    pub max_retries: u32,
    /// The most of each rate-limit window this bot spends (the rest is left to other clients).
    pub max_share: f64,
    pub auth: OktaAuthConfig,
    /// The OIDC Web app approvers confirm with (`[okta.oidc]`).
    pub oidc: Option<OidcConfig>,
    /// How long after a run the bot keeps looking for its resets in Okta's System Log (which
    /// lags) before it edits the summary with what it found.
    pub system_log_wait_secs: u64,
}

/// How the bot authenticates to Okta.
#[derive(Debug, Clone, PartialEq)]
pub enum OktaAuthConfig {
    /// `Authorization: SSWS …` with `OKTA_API_TOKEN`.
    ApiToken,
    /// An OAuth 2.0 service app (recommended).
    OAuth(OAuthConfig),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OAuthConfig {
    pub client_id: String,
    /// PEM file with the app's private key; `OKTA_PRIVATE_KEY` (the PEM text) wins when set.
    pub private_key_path: Option<PathBuf>,
    /// The key's `kid` in Okta, sent in the assertion's header.
    pub key_id: Option<String>,
    pub scopes: Vec<String>,
    /// The app requires DPoP ("Require Demonstrating Proof of Possession header in token
    /// requests"): the first token request carries a proof. Off, the bot still learns it from
    /// Okta's first answer, at the cost of one refused request per process.
    pub dpop: bool,
}

#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// Slack user IDs (`U…`/`W…`) and user group IDs (`S…`) allowed to ask.
    pub requesters: Allowlist,
    /// Slack user IDs and user group IDs allowed to approve.
    pub approvers: Allowlist,
    pub approval_ttl_minutes: i64,
    pub max_targets: usize,
    /// Requests one person may make in a rolling hour (dry runs included).
    pub max_requests_per_hour: usize,
    /// Users one person may ask to reset in a rolling 24 hours (default 2 × `max_targets`).
    pub max_targets_per_day: u64,
    /// Runs approved or running at once, org-wide; an approval past it is refused.
    pub max_runs_in_progress: usize,
    pub require_reason: bool,
    /// A request resetting more users than this needs two distinct approvers; `None`: one.
    pub two_approvers_above: Option<usize>,
    /// A run pauses after this many users (reset or failed) until an approver clicks
    /// Continue; `None`: no canary.
    pub canary_users: Option<usize>,
    /// Tell each reset user by Slack DM (found by their Okta primary email), after their reset.
    pub notify_users: bool,
    /// How an Approve or a Continue is confirmed by Okta before it counts.
    pub step_up: StepUpMode,
    /// Members of these groups (names or `00g…` ids) are never reset.
    pub protected_groups: Vec<String>,
    /// These logins are never reset (compared case-insensitively).
    pub protected_logins: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub url: String,
    /// How long a replica's hold on a run lasts without renewal (it renews every third of it).
    pub lease_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// Secrets, only ever from the environment (or, for the OAuth key, a key file path).
#[derive(Debug, Clone)]
pub struct Secrets {
    pub slack_signing_secret: Secret,
    pub slack_bot_token: Secret,
    /// Empty when the bot uses an OAuth service app.
    pub okta_api_token: Secret,
    /// Socket Mode's app-level token (`xapp-…`), when set.
    pub slack_app_token: Option<Secret>,
    /// The service app's private key, parsed and checked; `None` with an API token.
    pub okta_signing_key: Option<crate::okta::auth::SigningKey>,
    /// `OKTA_OIDC_CLIENT_SECRET`: the OIDC Web app's secret (`policy.step_up = "okta_oidc"`).
    pub okta_oidc_client_secret: Option<Secret>,
}

pub const OKTA_CONCURRENCY_MAX: usize = 30;

// ---- file format -------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    slack: RawSlack,
    okta: RawOkta,
    policy: RawPolicy,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    log: RawLog,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default = "default_listen")]
    listen: String,
    #[serde(default = "default_body_limit")]
    body_limit_bytes: usize,
    #[serde(default)]
    metrics_listen: Option<String>,
    #[serde(default)]
    public_url: Option<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            body_limit_bytes: default_body_limit(),
            metrics_listen: None,
            public_url: None,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:3000".into()
}
fn default_body_limit() -> usize {
    64 * 1024
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    #[serde(default = "default_slack_api")]
    api_url: String,
    team_id: String,
    channels: Vec<String>,
    #[serde(default)]
    mode: SlackMode,
}

fn default_slack_api() -> String {
    "https://slack.com/api".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOkta {
    org_url: String,
    #[serde(default)]
    admin_url: Option<String>,
    #[serde(default = "default_concurrency")]
    concurrency: usize,
    #[serde(default = "default_call_timeout")]
    call_timeout_secs: u64,
    #[serde(default = "default_max_retries")]
    max_retries: u32,
    #[serde(default = "default_max_share")]
    max_share: f64,
    #[serde(default = "default_auth")]
    auth: String,
    #[serde(default)]
    oauth: Option<RawOAuth>,
    #[serde(default)]
    oidc: Option<step_up::RawOidc>,
    #[serde(default = "default_system_log_wait")]
    system_log_wait_secs: u64,
}

fn default_system_log_wait() -> u64 {
    600
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    private_key_path: Option<String>,
    #[serde(default)]
    key_id: Option<String>,
    #[serde(default = "default_scopes")]
    scopes: Vec<String>,
    #[serde(default)]
    dpop: bool,
}

fn default_max_share() -> f64 {
    0.8
}
fn default_auth() -> String {
    "api_token".into()
}
fn default_scopes() -> Vec<String> {
    crate::okta::auth::DEFAULT_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn default_concurrency() -> usize {
    8
}
fn default_call_timeout() -> u64 {
    15
}
fn default_max_retries() -> u32 {
    4
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    requesters: Vec<String>,
    approvers: Vec<String>,
    #[serde(default = "default_ttl")]
    approval_ttl_minutes: i64,
    #[serde(default = "default_max_targets")]
    max_targets: usize,
    #[serde(default = "limits::default_max_requests_per_hour")]
    max_requests_per_hour: usize,
    /// `None`: twice `max_targets`.
    #[serde(default)]
    max_targets_per_day: Option<u64>,
    #[serde(default = "limits::default_max_runs_in_progress")]
    max_runs_in_progress: usize,
    #[serde(default = "default_true")]
    require_reason: bool,
    #[serde(default)]
    two_approvers_above: Option<usize>,
    #[serde(default)]
    canary_users: Option<usize>,
    #[serde(default)]
    notify_users: bool,
    #[serde(default)]
    step_up: Option<String>,
    #[serde(default)]
    protected_groups: Vec<String>,
    #[serde(default)]
    protected_logins: Vec<String>,
}

fn default_ttl() -> i64 {
    30
}
fn default_max_targets() -> usize {
    1000
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(default = "default_store_url")]
    url: String,
    #[serde(default = "default_lease_secs")]
    lease_secs: u64,
}

impl Default for RawStore {
    fn default() -> Self {
        Self {
            url: default_store_url(),
            lease_secs: default_lease_secs(),
        }
    }
}

fn default_lease_secs() -> u64 {
    30
}

pub fn default_store_url() -> String {
    "sqlite://data/okta-reset.db".into()
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    #[serde(default)]
    format: LogFormat,
}

// ---- errors ------------------------------------------------------------------------------------

/// Every problem found, each naming the key (or variable) and what to do.
#[derive(Debug, thiserror::Error)]
#[error("the configuration is not usable:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(problem: String) -> Self {
        Self {
            problems: vec![problem],
        }
    }
}

// ---- loading -----------------------------------------------------------------------------------

impl Config {
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::one(format!(
                "cannot read the config file {}: {e} (start from config/okta-reset.example.toml)",
                path.display()
            ))
        })?;
        Self::from_toml(&text)
    }

    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::one(format!("the file is not valid: {}", e.message())))?;
        validate(raw)
    }
}

impl Secrets {
    /// Reads the secrets an API-token set-up needs through `get` (the environment, or a map).
    pub fn from_env_with(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&OktaAuthConfig::ApiToken, get)
    }

    /// Reads the secrets `config` needs from the environment (and the OAuth key file).
    pub fn for_config(config: &Config) -> Result<Self, ConfigError> {
        Self::read(&config.okta.auth, |name| std::env::var(name).ok())
    }

    /// Reads the secrets for `auth` through `get` (the process environment, or a map in tests).
    /// With OAuth, `OKTA_PRIVATE_KEY` (PEM text) wins over `okta.oauth.private_key_path`; either
    /// way the key is parsed and test-signed here, so a bad key stops the start with its fix.
    pub fn read(
        auth: &OktaAuthConfig,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut read = |name: &str, hint: &str, prefix: Option<&str>| -> Secret {
            match get(name).map(|v| v.trim().to_string()) {
                Some(v) if !v.is_empty() => {
                    if let Some(p) = prefix {
                        if !v.starts_with(p) {
                            problems.push(format!("{name} does not start with `{p}`: {hint}"));
                        }
                    }
                    Secret::from(v)
                }
                _ => {
                    problems.push(format!("{name} is not set: {hint}"));
                    Secret::from(String::new())
                }
            }
        };
        let slack_signing_secret = read(
            "SLACK_SIGNING_SECRET",
            "copy it from your Slack app's Basic Information page",
            None,
        );
        let slack_bot_token = read(
            "SLACK_BOT_TOKEN",
            "use the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
            Some("xoxb-"),
        );
        let mut okta_signing_key = None;
        let okta_api_token = match auth {
            OktaAuthConfig::ApiToken => read(
                "OKTA_API_TOKEN",
                "create an API token in Okta (Security → API → Tokens) as an admin with the Help Desk role, or use an OAuth service app (okta.auth = \"oauth\")",
                None,
            ),
            OktaAuthConfig::OAuth(o) => {
                match load_private_key(o, &get) {
                    Ok(k) => okta_signing_key = Some(k),
                    Err(p) => problems.push(p),
                }
                Secret::from(String::new())
            }
        };
        // Two easy swaps, named rather than reported as a bare prefix mismatch.
        if slack_bot_token.expose_secret().starts_with("xapp-") {
            problems.retain(|p| !p.starts_with("SLACK_BOT_TOKEN"));
            problems.push(
                "SLACK_BOT_TOKEN holds an app-level token (xapp-…): use the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page; the xapp- token belongs in SLACK_APP_TOKEN".into(),
            );
        }
        let okta_oidc_client_secret = get("OKTA_OIDC_CLIENT_SECRET")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .map(Secret::from);
        let slack_app_token = get("SLACK_APP_TOKEN")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        match slack_app_token.as_deref() {
            Some(v) if v.starts_with("xoxb-") => problems.push(
                "SLACK_APP_TOKEN holds a bot token (xoxb-…): Socket Mode needs the app-level token (xapp-…) from the app's Basic Information → App-Level Tokens, with the connections:write scope; the xoxb- token belongs in SLACK_BOT_TOKEN".into(),
            ),
            Some(v) if !v.starts_with("xapp-") => problems.push(
                "SLACK_APP_TOKEN does not start with `xapp-`: generate an app-level token with the connections:write scope under Basic Information → App-Level Tokens".into(),
            ),
            _ => {}
        }
        if problems.is_empty() {
            Ok(Self {
                slack_signing_secret,
                slack_bot_token,
                okta_api_token,
                slack_app_token: slack_app_token.map(Secret::from),
                okta_signing_key,
                okta_oidc_client_secret,
            })
        } else {
            Err(ConfigError { problems })
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// What the config's mode needs from the environment: Socket Mode needs SLACK_APP_TOKEN.
    pub fn check_for(&self, config: &Config) -> Result<(), ConfigError> {
        if config.slack.mode == SlackMode::Socket && self.slack_app_token.is_none() {
            return Err(ConfigError::one(
                "SLACK_APP_TOKEN is not set: slack.mode = \"socket\" needs an app-level token (xapp-…) with the connections:write scope, from the app's Basic Information → App-Level Tokens".into(),
            ));
        }
        if config.policy.step_up == StepUpMode::OktaOidc && self.okta_oidc_client_secret.is_none() {
            return Err(ConfigError::one(
                "OKTA_OIDC_CLIENT_SECRET is not set: policy.step_up = \"okta_oidc\" exchanges the approver's sign-in code with the OIDC Web app's client secret (Okta: Applications → your app → General → Client Credentials)".into(),
            ));
        }
        Ok(())
    }
}

/// The OAuth app's key: `OKTA_PRIVATE_KEY` or the file at `okta.oauth.private_key_path`.
fn load_private_key(
    o: &OAuthConfig,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<crate::okta::auth::SigningKey, String> {
    use crate::okta::auth::SigningKey;
    let (pem, source) = match get("OKTA_PRIVATE_KEY").filter(|v| !v.trim().is_empty()) {
        Some(v) => (Secret::from(v), "OKTA_PRIVATE_KEY".to_string()),
        None => match &o.private_key_path {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => (
                    Secret::from(text),
                    format!("okta.oauth.private_key_path ({})", path.display()),
                ),
                Err(e) => {
                    return Err(format!(
                        "okta.oauth.private_key_path: cannot read {}: {e}",
                        path.display()
                    ))
                }
            },
            None => {
                return Err("OKTA_PRIVATE_KEY is not set and okta.oauth.private_key_path is empty: give the service app's private key (PEM) one way or the other".into())
            }
        },
    };
    SigningKey::from_pem(&pem, o.key_id.clone(), &source).map_err(|e| e.to_string())
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let mut p: Vec<String> = Vec::new();

    let listen = raw.server.listen.parse::<SocketAddr>().unwrap_or_else(|_| {
        p.push(format!(
            "server.listen: `{}` is not an address:port (e.g. \"127.0.0.1:3000\" or \"0.0.0.0:3000\")",
            raw.server.listen
        ));
        SocketAddr::from(([127, 0, 0, 1], 3000))
    });
    let metrics_listen = raw.server.metrics_listen.as_deref().and_then(|m| {
        match m.parse::<SocketAddr>() {
            // Same port on the same or an overlapping (0.0.0.0) address: the second bind fails.
            Ok(a) if a.port() == listen.port()
                && a.port() != 0
                && (a.ip() == listen.ip() || a.ip().is_unspecified() || listen.ip().is_unspecified()) =>
            {
                p.push(format!(
                    "server.metrics_listen: {a} clashes with server.listen ({listen}); use another port, or leave metrics_listen out to serve /metrics on server.listen"
                ));
                None
            }
            Ok(a) => Some(a),
            Err(_) => {
                p.push(format!(
                    "server.metrics_listen: `{m}` is not an address:port (e.g. \"127.0.0.1:9100\")"
                ));
                None
            }
        }
    });
    if raw.server.body_limit_bytes < 1024 {
        p.push("server.body_limit_bytes: must be at least 1024".into());
    }

    let api_url = service_url("slack.api_url", &raw.slack.api_url, &mut p);
    let team_id = SlackTeamId::parse(&raw.slack.team_id).unwrap_or_else(|e| {
        p.push(format!("slack.team_id: {e}"));
        SlackTeamId::parse("T0000").expect("valid")
    });
    let mut channels = Vec::new();
    for c in &raw.slack.channels {
        match SlackChannelId::parse(c) {
            Ok(id) => channels.push(id),
            Err(e) => p.push(format!("slack.channels: {e}")),
        }
    }
    if raw.slack.channels.is_empty() {
        p.push(
            "slack.channels is empty: list the channel IDs (C…) where requests may be made".into(),
        );
    }

    let org_url = service_url("okta.org_url", &raw.okta.org_url, &mut p);
    let admin_url = match (&raw.okta.admin_url, &org_url) {
        (Some(v), _) => service_url("okta.admin_url", v, &mut p),
        (None, Some(org)) => crate::okta::system_log::derive_admin_url(org)
            .map_err(|why| {
                p.push(format!(
                    "okta.admin_url: {why}; set okta.admin_url to your admin console, e.g. \"https://YOURORG-admin.okta.com\""
                ))
            })
            .ok(),
        (None, None) => None,
    };
    if raw.okta.concurrency == 0 || raw.okta.concurrency > OKTA_CONCURRENCY_MAX {
        p.push(format!(
            "okta.concurrency: {} is out of range; use 1 to {OKTA_CONCURRENCY_MAX} (Okta advises about 10 for bulk work)",
            raw.okta.concurrency
        ));
    }
    if raw.okta.call_timeout_secs == 0 {
        p.push("okta.call_timeout_secs: must be at least 1".into());
    }
    if !(raw.okta.max_share > 0.0 && raw.okta.max_share <= 1.0) {
        p.push(format!(
            "okta.max_share: {} is out of range; use a share of each rate-limit window above 0 and at most 1 (0.8 leaves 20% to Okta's other clients)",
            raw.okta.max_share
        ));
    }
    let auth = okta_auth(&raw.okta, &mut p);
    let step_up_mode = step_up::mode(raw.policy.step_up.as_deref(), &mut p);
    let public_url = step_up::public_url(raw.server.public_url.as_deref(), &mut p);
    let oidc = step_up::oidc(
        raw.okta.oidc.as_ref(),
        step_up_mode,
        public_url.as_ref(),
        &mut p,
    );

    let requesters = allowlist("policy.requesters", &raw.policy.requesters, &mut p);
    let approvers = allowlist("policy.approvers", &raw.policy.approvers, &mut p);
    if raw.policy.requesters.is_empty() {
        p.push("policy.requesters is empty: list the Slack user IDs (U…) or user group IDs (S…) allowed to ask".into());
    }
    if raw.policy.approvers.is_empty() {
        p.push("policy.approvers is empty: list the Slack user IDs (U…) or user group IDs (S…) allowed to approve".into());
    } else if approvers.groups.is_empty() {
        // The two-person rule needs, for every requester, an approver other than themselves.
        // Who is in a user group is only known at run time, so this is checked on the IDs listed
        // directly, and only when no approver group is listed: an approver group may hold other
        // people (the self-approval refusal still holds at run time, and `okta-reset check`
        // counts each group's members).
        let stranded: Vec<&str> = requesters
            .users
            .iter()
            .filter(|r| approvers.users.iter().all(|a| a == *r))
            .map(|r| r.as_str())
            .collect();
        if !stranded.is_empty() {
            p.push(format!(
                "policy.approvers only contains the requester(s) {}: nobody else could approve their requests; add another approver",
                stranded.join(", ")
            ));
        }
    }
    if raw.policy.approval_ttl_minutes < 1 || raw.policy.approval_ttl_minutes > 24 * 60 {
        p.push("policy.approval_ttl_minutes: use 1 to 1440".into());
    }
    if raw.policy.max_targets == 0 {
        p.push("policy.max_targets: must be at least 1".into());
    }
    let max_targets_per_day = limits::check(&raw.policy, &mut p);
    sign_off_settings(&raw.policy, &requesters, &approvers, &mut p);
    let protected_groups = non_empty(
        "policy.protected_groups",
        &raw.policy.protected_groups,
        &mut p,
    );
    let protected_logins = non_empty(
        "policy.protected_logins",
        &raw.policy.protected_logins,
        &mut p,
    );

    let store_url = raw.store.url.trim().to_string();
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !known.iter().any(|k| store_url.starts_with(k)) {
        p.push(format!(
            "store.url: `{}` is not a store URL; use sqlite://data/okta-reset.db or postgres://USER@HOST/DB",
            crate::store::redact_url(&store_url)
        ));
    }

    if !(2..=600).contains(&raw.store.lease_secs) {
        p.push("store.lease_secs: use 2 to 600 (a dead replica's runs wait this long to be taken over)".into());
    }

    if !p.is_empty() {
        return Err(ConfigError { problems: p });
    }
    Ok(Config {
        server: ServerConfig {
            listen,
            body_limit_bytes: raw.server.body_limit_bytes,
            metrics_listen,
            public_url,
        },
        slack: SlackConfig {
            api_url: api_url.expect("checked"),
            team_id,
            channels,
            mode: raw.slack.mode,
        },
        okta: OktaConfig {
            org_url: org_url.expect("checked"),
            admin_url: admin_url.expect("checked"),
            concurrency: raw.okta.concurrency,
            call_timeout_secs: raw.okta.call_timeout_secs,
            max_retries: raw.okta.max_retries,
            max_share: raw.okta.max_share,
            auth,
            oidc,
            system_log_wait_secs: raw.okta.system_log_wait_secs,
        },
        policy: PolicyConfig {
            requesters,
            approvers,
            approval_ttl_minutes: raw.policy.approval_ttl_minutes,
            max_targets: raw.policy.max_targets,
            max_requests_per_hour: raw.policy.max_requests_per_hour,
            max_targets_per_day,
            max_runs_in_progress: raw.policy.max_runs_in_progress,
            require_reason: raw.policy.require_reason,
            two_approvers_above: raw.policy.two_approvers_above,
            canary_users: raw.policy.canary_users,
            notify_users: raw.policy.notify_users,
            step_up: step_up_mode,
            protected_groups,
            protected_logins,
        },
        store: StoreConfig {
            url: store_url,
            lease_secs: raw.store.lease_secs,
        },
        log: LogConfig {
            format: raw.log.format,
        },
    })
}

/// `policy.two_approvers_above` and `policy.canary_users`: each must be able to apply, and two
/// approvals must be possible for every requester. As for the two-person rule above, this is
/// checked on the IDs listed directly, and only when no approver group is listed (a group's
/// members are only known at run time).
fn sign_off_settings(
    raw: &RawPolicy,
    requesters: &Allowlist,
    approvers: &Allowlist,
    p: &mut Vec<String>,
) {
    if let Some(above) = raw.two_approvers_above {
        if above >= raw.max_targets {
            p.push(format!(
                "policy.two_approvers_above: {above} is not below policy.max_targets ({}), so it would never apply; lower it or remove it",
                raw.max_targets
            ));
        }
        let short: Vec<&str> = requesters
            .users
            .iter()
            .filter(|r| approvers.users.iter().filter(|a| a != r).count() < 2)
            .map(|r| r.as_str())
            .collect();
        if !short.is_empty() && !approvers.is_empty() && approvers.groups.is_empty() {
            p.push(format!(
                "policy.two_approvers_above is set, but the requester(s) {} would have fewer than two approvers other than themselves: their large requests could never be approved; add approvers",
                short.join(", ")
            ));
        }
    }
    if let Some(n) = raw.canary_users {
        if n == 0 {
            p.push("policy.canary_users: must be at least 1 (remove it for no canary)".into());
        } else if n >= raw.max_targets {
            p.push(format!(
                "policy.canary_users: {n} is not below policy.max_targets ({}), so no run would ever pause; lower it or remove it",
                raw.max_targets
            ));
        }
    }
}

/// Trimmed entries; an empty one is a mistake worth naming.
fn non_empty(key: &str, values: &[String], p: &mut Vec<String>) -> Vec<String> {
    if values.iter().any(|v| v.trim().is_empty()) {
        p.push(format!("{key}: an entry is empty; remove it"));
    }
    values
        .iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn okta_auth(raw: &RawOkta, p: &mut Vec<String>) -> OktaAuthConfig {
    match raw.auth.as_str() {
        "api_token" => {
            if raw.oauth.is_some() {
                p.push("okta.oauth is set but okta.auth is \"api_token\": set okta.auth = \"oauth\" to use the service app, or remove [okta.oauth]".into());
            }
            OktaAuthConfig::ApiToken
        }
        "oauth" => {
            let Some(o) = &raw.oauth else {
                p.push("okta.auth is \"oauth\" but [okta.oauth] is missing: add client_id and private_key_path (see the README's OAuth set-up)".into());
                return OktaAuthConfig::ApiToken;
            };
            if o.client_id.trim().is_empty() {
                p.push("okta.oauth.client_id is empty: copy the service app's Client ID from Okta (Applications → your app → General)".into());
            }
            if o.scopes.is_empty() {
                p.push("okta.oauth.scopes is empty: leave it out to ask for the four scopes the bot needs".into());
            }
            OktaAuthConfig::OAuth(OAuthConfig {
                client_id: o.client_id.trim().to_string(),
                private_key_path: o
                    .private_key_path
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from),
                key_id: o
                    .key_id
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                scopes: o.scopes.clone(),
                dpop: o.dpop,
            })
        }
        other => {
            p.push(format!(
                "okta.auth: `{other}` is not a way to authenticate; use \"oauth\" (a service app, recommended) or \"api_token\""
            ));
            OktaAuthConfig::ApiToken
        }
    }
}

/// Slack user IDs (`U…`, `W…`) and user group IDs (`S…`); anything else — a name, an `@handle`,
/// a group's handle — is refused: allowlists authorize on IDs, never names.
fn allowlist(key: &str, values: &[String], p: &mut Vec<String>) -> Allowlist {
    let mut out = Allowlist::default();
    for v in values {
        if v.starts_with('S') {
            match SlackUserGroupId::parse(v) {
                Ok(id) => {
                    out.groups.insert(id);
                }
                Err(e) => p.push(format!(
                    "{key}: {e} (a user group is named by its ID, shown in the group's profile in Slack, never by its name or @handle)"
                )),
            }
            continue;
        }
        match SlackUserId::parse(v) {
            Ok(id) => {
                out.users.insert(id);
            }
            Err(e) => p.push(format!(
                "{key}: {e}, nor a Slack user group id (S…) (allowlists take Slack user IDs and user group IDs, never names)"
            )),
        }
    }
    out
}

/// A service base URL: https, or plain http only for loopback hosts (local fakes).
fn service_url(key: &str, value: &str, p: &mut Vec<String>) -> Option<Url> {
    let url = match Url::parse(value.trim()) {
        Ok(u) => u,
        Err(e) => {
            p.push(format!("{key}: `{value}` is not a URL ({e})"));
            return None;
        }
    };
    match url.scheme() {
        "https" => Some(url),
        "http" if is_loopback(&url) => Some(url),
        "http" => {
            p.push(format!(
                "{key}: plain http:// is accepted only for loopback hosts; use https://{}",
                url.host_str().unwrap_or("…")
            ));
            None
        }
        other => {
            p.push(format!(
                "{key}: scheme `{other}` is not supported; use https://"
            ));
            None
        }
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

mod limits;
mod step_up;
pub use step_up::{OidcConfig, StepUpMode};

#[cfg(test)]
mod tests;
