//! Bot processes and the simulators they talk to.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use okta_reset::sim::okta::{BucketLimits, OktaSim, OktaSimConfig, SimOrg};
use okta_reset::sim::slack::{SimMessage, SlackDriver, SlackSim, SlackSimConfig};
use okta_reset::sim::world::{config_toml, CHANNEL, SIGNING_SECRET, TEAM};

pub use okta_reset::sim::world::{APPROVER, APPROVER_2, REQUESTER};

/// A liveness bound, not a speed goal. Each run ends with a results file (two Tier 4 calls), and
/// the fifty-requests drill has already spent Tier 4 on users.info, so slack-morphism paces
/// those uploads at Slack's 100 a minute: fifty summaries take about two minutes on a loaded
/// machine.
pub const WAIT: Duration = Duration::from_secs(240);

pub const CHANNELS: [&str; 10] = [
    "C0001", "C0002", "C0003", "C0004", "C0005", "C0006", "C0007", "C0008", "C0009", "C0010",
];

pub struct Sims {
    pub okta: OktaSim,
    pub slack: SlackSim,
    pub dir: tempfile::TempDir,
}

/// Simulators with a generated group `bulk` of `users` members and a fast, generous Okta.
pub async fn sims(users: usize, latency_ms: u64) -> Sims {
    let org = SimOrg::demo().with_generated_group("bulk", users);
    let okta = OktaSim::start(
        org,
        OktaSimConfig {
            limits: BucketLimits::uniform(1_000_000),
            latency: Duration::from_millis(latency_ms),
            ..OktaSimConfig::default()
        },
    )
    .await
    .unwrap();
    let slack = SlackSim::start(SlackSimConfig::demo()).await.unwrap();
    Sims {
        okta,
        slack,
        dir: tempfile::tempdir().unwrap(),
    }
}

pub struct Bot {
    pub name: String,
    pub base_url: String,
    pub driver: SlackDriver,
    config: PathBuf,
    log: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sims {
    /// Writes a config for a bot on `store_url` (`lease_secs` for takeovers) and starts it.
    pub async fn bot(&self, name: &str, store_url: &str, lease_secs: u64) -> Bot {
        let port = free_port();
        let mut toml = config_toml(
            &self.slack.api_url(),
            &self.okta.base_url(),
            store_url,
            &format!("127.0.0.1:{port}"),
        );
        // Drills make and approve dozens of requests at once: limits far above what they use.
        toml = toml.replace(
            "max_targets = 1000",
            "max_targets = 5000\nmax_requests_per_hour = 1000\nmax_runs_in_progress = 100",
        );
        // Ten channels: Slack paces chat.postMessage to about one a second per channel (and
        // slack-morphism's rate control does the same), so drills with many requests spread out.
        toml = toml.replace(
            "channels = [\"C0001\"]",
            &format!(
                "channels = [{}]",
                CHANNELS.map(|c| format!("\"{c}\"")).join(", ")
            ),
        );
        toml.push_str(&format!("lease_secs = {lease_secs}\n"));
        let config = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, toml).unwrap();
        let base_url = format!("http://127.0.0.1:{port}");
        let mut bot = Bot {
            name: name.to_string(),
            driver: SlackDriver::new(&base_url, SIGNING_SECRET, TEAM).with_sim(&self.slack),
            base_url,
            log: self.dir.path().join(format!("{name}.log")),
            config,
            env: vec![
                ("SLACK_SIGNING_SECRET".into(), SIGNING_SECRET.into()),
                ("SLACK_BOT_TOKEN".into(), self.slack.bot_token().into()),
                ("OKTA_API_TOKEN".into(), self.okta.api_token().into()),
                ("RUST_LOG".into(), "info".into()),
            ],
            child: None,
        };
        bot.start().await;
        bot
    }

    /// Runs `serve` on `store_url` expecting it to fail at start; returns its output.
    pub async fn run_to_exit(&self, name: &str, store_url: &str) -> std::process::Output {
        let toml = config_toml(
            &self.slack.api_url(),
            &self.okta.base_url(),
            store_url,
            "127.0.0.1:0",
        );
        let config = self.dir.path().join(format!("{name}.toml"));
        std::fs::write(&config, toml).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_okta-reset"));
        cmd.args(["serve", "--config"])
            .arg(&config)
            .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env("SLACK_BOT_TOKEN", self.slack.bot_token())
            .env("OKTA_API_TOKEN", self.okta.api_token());
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    }

    pub fn roots(&self) -> Vec<SimMessage> {
        self.slack
            .messages()
            .into_iter()
            .filter(|m| m.thread_ts.is_none())
            .collect()
    }

    /// Request ids and root timestamps, in posting order.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests_in_channels()
            .into_iter()
            .map(|(id, ts, _)| (id, ts))
            .collect()
    }

    /// Request ids, root timestamps and channels, in posting order.
    pub fn requests_in_channels(&self) -> Vec<(String, String, String)> {
        self.roots()
            .into_iter()
            .filter_map(|m| {
                let at = m.text.find("R-")?;
                Some((m.text[at..at + 10].to_string(), m.ts, m.channel))
            })
            .collect()
    }

    pub async fn wait_for(&self, what: &str, f: impl Fn(&Sims) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !f(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn thread_texts(&self, root_ts: &str) -> Vec<String> {
        self.thread_texts_in(CHANNEL, root_ts)
    }

    pub fn thread_texts_in(&self, channel: &str, root_ts: &str) -> Vec<String> {
        self.slack
            .thread(channel, root_ts)
            .into_iter()
            .map(|m| m.text)
            .collect()
    }

    /// Nobody was reset more than once.
    pub fn assert_each_reset_once(&self) {
        let calls = self.okta.reset_calls();
        let mut ids: Vec<&str> = calls.iter().map(|c| c.user_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), calls.len(), "some user was reset twice");
        for id in ids {
            assert_eq!(self.okta.reset_count(id), 1, "{id}");
        }
    }
}

impl Bot {
    pub async fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_okta-reset"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("the okta-reset binary starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.base_url)).await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("{} exited with {status}: {}", self.name, self.log_text());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not come up",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGTERM, then waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        c.wait().unwrap()
    }

    /// SIGKILL: no shutdown, no journal flush, no lease release.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        self.kill9();
    }
}
