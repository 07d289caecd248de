//! A whole world on loopback: the simulated Okta org and Slack workspace, and the bot wired to
//! them with a SQLite store in a scratch folder. The demo, the integration tests and the
//! benchmarks all start from here, so they exercise the same real code paths.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::okta::{OktaSim, OktaSimConfig, SimOrg};
use super::slack::{SlackDriver, SlackSim, SlackSimConfig};
use crate::app::App;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Secrets};

pub const SIGNING_SECRET: &str = "sim-signing-secret-0123456789abcdef";
pub const TEAM: &str = "T0001";
pub const CHANNEL: &str = "C0001";
pub const REQUESTER: &str = "U0001";
pub const APPROVER: &str = "U0002";
pub const APPROVER_2: &str = "U0003";
pub const OUTSIDER: &str = "U0004";

pub struct WorldOptions {
    pub org: SimOrg,
    pub okta: OktaSimConfig,
    pub slack: SlackSimConfig,
    pub clock: Arc<dyn Clock>,
    /// Adjusts the bot's config after the defaults below are filled in.
    pub tweak: Box<dyn FnOnce(&mut Config) + Send>,
    /// Environment variables added to the defaults (e.g. `OKTA_PRIVATE_KEY`).
    pub env: Vec<(String, String)>,
    /// The store; `None` for SQLite in a scratch folder.
    pub store_url: Option<String>,
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self {
            org: SimOrg::demo(),
            okta: OktaSimConfig::default(),
            slack: SlackSimConfig::demo(),
            clock: Arc::new(SystemClock),
            tweak: Box::new(|_| {}),
            env: Vec::new(),
            store_url: None,
        }
    }
}

/// The bot's config for a world: the simulators' URLs, the demo workspace's allowlists
/// (requesters U0001 and U0002, approvers U0002 and U0003), `store_url` and `listen`.
pub fn config_toml(slack_api: &str, okta_url: &str, store_url: &str, listen: &str) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
[slack]
api_url = "{slack_api}"
team_id = "{TEAM}"
channels = ["{CHANNEL}"]
[okta]
org_url = "{okta_url}"
concurrency = 8
call_timeout_secs = 5
max_retries = 3
[policy]
requesters = ["{REQUESTER}", "{APPROVER}"]
approvers = ["{APPROVER}", "{APPROVER_2}"]
approval_ttl_minutes = 30
max_targets = 1000
require_reason = true
[store]
url = "{store_url}"
"#
    )
}

pub struct World {
    pub okta: OktaSim,
    pub slack: SlackSim,
    pub app: App,
    pub driver: SlackDriver,
    pub config: Config,
    pub secrets: Secrets,
    pub clock: Arc<dyn Clock>,
    pub store_dir: tempfile::TempDir,
}

impl World {
    pub async fn start(opts: WorldOptions) -> anyhow::Result<World> {
        let okta = OktaSim::start(opts.org, opts.okta).await?;
        let slack = SlackSim::start(opts.slack).await?;
        let store_dir = tempfile::tempdir()?;
        let store_url = match &opts.store_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}/okta-reset.db", store_dir.path().display()),
        };
        let toml = config_toml(
            &slack.api_url(),
            &okta.base_url(),
            &store_url,
            "127.0.0.1:0",
        );
        let mut config = Config::from_toml(&toml)?;
        (opts.tweak)(&mut config);
        // Secrets go through the same reading (and key checking) as in production.
        let mut env: Vec<(String, String)> = vec![
            ("SLACK_SIGNING_SECRET".into(), SIGNING_SECRET.into()),
            ("SLACK_BOT_TOKEN".into(), slack.bot_token().to_string()),
            ("OKTA_API_TOKEN".into(), okta.api_token().to_string()),
        ];
        env.extend(opts.env);
        let secrets = Secrets::read(&config.okta.auth, |name| {
            env.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })?;
        let app = start_app(&config, &secrets, opts.clock.clone()).await?;
        let driver = SlackDriver::new(&app.base_url(), SIGNING_SECRET, TEAM).with_sim(&slack);
        Ok(World {
            okta,
            slack,
            app,
            driver,
            config,
            secrets,
            clock: opts.clock,
            store_dir,
        })
    }

    /// Stops the bot and starts it again on the same store (a new port).
    pub async fn restart_app(self) -> anyhow::Result<World> {
        let World {
            okta,
            slack,
            app,
            config,
            secrets,
            clock,
            store_dir,
            ..
        } = self;
        app.shutdown().await;
        let app = start_app(&config, &secrets, clock.clone()).await?;
        let driver = SlackDriver::new(&app.base_url(), SIGNING_SECRET, TEAM).with_sim(&slack);
        Ok(World {
            okta,
            slack,
            app,
            driver,
            config,
            secrets,
            clock,
            store_dir,
        })
    }
}

async fn start_app(
    config: &Config,
    secrets: &Secrets,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<App> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    App::start(config.clone(), secrets.clone(), listener, clock).await
}
