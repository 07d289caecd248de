//! One harness: `spawn()` starts the simulators and the bot; typed helpers drive it.

use std::sync::Arc;
use std::time::Duration;

use okta_reset::clock::{Clock, ManualClock};
use okta_reset::config::Config;
use okta_reset::domain::request::State;
use okta_reset::sim::okta::{OktaSimConfig, SimOrg};
use okta_reset::sim::slack::{SimEphemeral, SimMessage};
use okta_reset::sim::world::{World, WorldOptions, CHANNEL};
use okta_reset::store::RequestRecord;

pub use okta_reset::sim::world::{APPROVER, APPROVER_2, OUTSIDER, REQUESTER};

pub const WAIT: Duration = Duration::from_secs(20);

/// Two demo contractors, both eligible for a reset.
pub const ASK_LEE_AND_MOSS: &str =
    r#"user:c01.lee@contractors.example.com,c02.moss@contractors.example.com reason:"x""#;

/// Okta calls time out after a second, two at a time: for drills where Okta hangs.
pub fn okta_times_out_after_1s(c: &mut Config) {
    c.okta.call_timeout_secs = 1;
    c.okta.concurrency = 2;
}

pub struct TestApp {
    pub w: World,
    pub clock: Option<ManualClock>,
}

pub struct Spawn {
    org: SimOrg,
    okta: OktaSimConfig,
    manual_clock: bool,
    socket_mode: bool,
    tweak: Box<dyn FnOnce(&mut Config) + Send>,
    env: Vec<(String, String)>,
}

pub fn spawn_with() -> Spawn {
    Spawn {
        org: SimOrg::demo(),
        okta: OktaSimConfig::default(),
        manual_clock: false,
        socket_mode: false,
        tweak: Box::new(|_| {}),
        env: Vec::new(),
    }
}

pub async fn spawn() -> TestApp {
    spawn_with().start().await
}

impl Spawn {
    pub fn org(mut self, org: SimOrg) -> Self {
        self.org = org;
        self
    }
    pub fn okta(mut self, okta: OktaSimConfig) -> Self {
        self.okta = okta;
        self
    }
    /// Okta answers list calls in pages of at most `n` users.
    pub fn okta_pages_of(mut self, n: usize) -> Self {
        self.okta.page_limit_max = n;
        self
    }
    /// Slack reaches the bot over Socket Mode (the sim's WebSocket), not HTTP.
    pub fn socket_mode(mut self) -> Self {
        self.socket_mode = true;
        self
    }
    /// An environment variable for the bot (e.g. `OKTA_PRIVATE_KEY`).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_string(), value.to_string()));
        self
    }
    pub fn manual_clock(mut self) -> Self {
        self.manual_clock = true;
        self
    }
    pub fn config(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tweak = Box::new(f);
        self
    }
    pub async fn start(self) -> TestApp {
        let manual = self.manual_clock.then(ManualClock::starting_now);
        let clock: Arc<dyn Clock> = match &manual {
            Some(m) => Arc::new(m.clone()),
            None => Arc::new(okta_reset::clock::SystemClock),
        };
        let w = World::start(WorldOptions {
            org: self.org,
            okta: self.okta,
            clock,
            tweak: self.tweak,
            socket_mode: self.socket_mode,
            env: self.env,
            ..WorldOptions::default()
        })
        .await
        .expect("world starts");
        TestApp { w, clock: manual }
    }
}

/// A request as seen in the channel: its root message and id.
#[derive(Debug, Clone)]
pub struct Posted {
    pub ts: String,
    pub id: String,
}

impl TestApp {
    /// Sends `/okta-reset text` and returns the immediate ephemeral answer.
    pub async fn slash(&self, user: &str, text: &str) -> String {
        self.slash_in(user, CHANNEL, text).await
    }

    pub async fn slash_in(&self, user: &str, channel: &str, text: &str) -> String {
        let r = self.w.driver.slash(user, channel, text).await;
        assert_eq!(
            r.status, 200,
            "slash command answered {}: {}",
            r.status, r.body
        );
        r.json
            .as_ref()
            .and_then(|j| j["text"].as_str())
            .unwrap_or_else(|| panic!("no ephemeral text in {}", r.body))
            .to_string()
    }

    /// Asks for a reset and waits for its approval message.
    pub async fn request(&self, text: &str) -> Posted {
        self.request_as(REQUESTER, text).await
    }

    /// `user` asks for a reset and waits for its approval message.
    pub async fn request_as(&self, user: &str, text: &str) -> Posted {
        self.ask(user, text).await;
        self.wait_root().await
    }

    /// Asks for a reset and waits for the `n`th approval message (1-based) in the channel.
    pub async fn request_nth(&self, n: usize, text: &str) -> Posted {
        self.ask(REQUESTER, text).await;
        self.wait_nth_root(n).await
    }

    async fn ask(&self, user: &str, text: &str) {
        let ack = self.slash(user, text).await;
        assert!(ack.starts_with("Looking up the targets"), "{ack}");
    }

    pub async fn wait_root(&self) -> Posted {
        self.wait_nth_root(1).await
    }

    /// Waits for the `n`th approval message (1-based) and returns it.
    pub async fn wait_nth_root(&self, n: usize) -> Posted {
        self.w
            .slack
            .wait_for(&format!("approval message {n}"), WAIT, |s| {
                s.messages()
                    .iter()
                    .filter(|m| m.thread_ts.is_none())
                    .count()
                    >= n
            })
            .await
            .unwrap_or_else(|e| panic!("{e}; ephemerals: {:#?}", self.w.slack.ephemerals()));
        let m = self.roots().remove(n - 1);
        let at = m.text.find("R-").expect("request id in the root text");
        Posted {
            id: m.text[at..at + 10].to_string(),
            ts: m.ts,
        }
    }

    pub fn roots(&self) -> Vec<SimMessage> {
        self.w
            .slack
            .messages()
            .into_iter()
            .filter(|m| m.thread_ts.is_none())
            .collect()
    }

    pub fn root_text(&self, p: &Posted) -> String {
        let m = self.root_message(p);
        format!("{}\n{}", m.text, m.blocks)
    }

    /// The root message as it is now (its latest edit).
    pub fn root_message(&self, p: &Posted) -> SimMessage {
        self.w
            .slack
            .messages()
            .into_iter()
            .find(|m| m.ts == p.ts)
            .expect("root exists")
    }

    /// The root message's blocks as (type, block JSON, its mrkdwn or plain text), in order.
    pub fn root_blocks(&self, p: &Posted) -> Vec<(String, serde_json::Value, String)> {
        let m = self.root_message(p);
        m.blocks
            .as_array()
            .expect("the root has blocks")
            .iter()
            .map(|b| {
                let text = b["text"]["text"]
                    .as_str()
                    .or_else(|| b["elements"][0]["text"].as_str())
                    .unwrap_or("")
                    .to_string();
                (
                    b["type"].as_str().unwrap_or("").to_string(),
                    b.clone(),
                    text,
                )
            })
            .collect()
    }

    /// Waits until the root message (text or blocks) contains `needle`; returns it as it is now.
    pub async fn wait_root_contains(&self, p: &Posted, needle: &str) -> String {
        self.w
            .slack
            .wait_for(&format!("the root with {needle:?}"), WAIT, |s| {
                s.messages()
                    .iter()
                    .any(|m| m.ts == p.ts && format!("{}{}", m.text, m.blocks).contains(needle))
            })
            .await
            .unwrap();
        self.root_text(p)
    }

    pub fn thread(&self, p: &Posted) -> Vec<SimMessage> {
        self.w.slack.thread(CHANNEL, &p.ts)
    }

    /// How many messages in the request's thread contain `needle`.
    pub fn thread_count(&self, p: &Posted, needle: &str) -> usize {
        self.thread(p)
            .iter()
            .filter(|m| m.text.contains(needle))
            .count()
    }

    pub async fn click(&self, user: &str, p: &Posted, action: &str) {
        self.click_message(user, &p.ts, action, &p.id).await;
    }

    /// Clicks a button on the message `ts` (the root, or a message in the thread) for request `id`.
    pub async fn click_message(&self, user: &str, ts: &str, action: &str, id: &str) {
        let r = self.w.driver.click(user, CHANNEL, ts, action, id).await;
        assert_eq!(r.status, 200, "click answered {}: {}", r.status, r.body);
    }

    /// Waits for an ephemeral to `user` containing `needle` and returns its text.
    pub async fn ephemeral_to(&self, user: &str, needle: &str) -> String {
        let found = |s: &okta_reset::sim::slack::SlackSim| -> Option<SimEphemeral> {
            s.ephemerals()
                .into_iter()
                .find(|e| e.user == user && e.text.contains(needle))
        };
        self.w
            .slack
            .wait_for(
                &format!("an ephemeral to {user} with {needle:?}"),
                WAIT,
                |s| found(s).is_some(),
            )
            .await
            .unwrap();
        found(&self.w.slack).unwrap().text
    }

    pub async fn wait_thread(&self, p: &Posted, needle: &str) -> String {
        self.wait_thread_within(p, needle, WAIT).await
    }

    /// `wait_thread` for a message that may take longer than `WAIT` (e.g. after a Slack outage).
    pub async fn wait_thread_within(&self, p: &Posted, needle: &str, within: Duration) -> String {
        let ch = CHANNEL;
        self.w
            .slack
            .wait_for(&format!("a thread message with {needle:?}"), within, |s| {
                s.thread(ch, &p.ts).iter().any(|m| m.text.contains(needle))
            })
            .await
            .unwrap();
        self.thread(p)
            .into_iter()
            .find(|m| m.text.contains(needle))
            .map(|m| format!("{}\n{}", m.text, m.blocks))
            .unwrap()
    }

    pub async fn record(&self, id: &str) -> RequestRecord {
        self.w
            .app
            .service
            .store
            .get_request(id)
            .await
            .unwrap()
            .expect("request stored")
    }

    pub async fn wait_state(&self, id: &str, state: State) -> RequestRecord {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let r = self.record(id).await;
            if r.state == state {
                return r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{id} stayed {:?}, wanted {state:?}",
                r.state
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The request once its summary's ts is stored: the summary shows in Slack a moment before
    /// the bot records where it is.
    pub async fn wait_summary_stored(&self, id: &str) -> RequestRecord {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let r = self.record(id).await;
            if r.summary_ts.is_some() {
                return r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{id}: the summary's ts was never stored"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every request in the store, whatever its state.
    pub async fn all_requests(&self) -> Vec<RequestRecord> {
        use State::*;
        self.w
            .app
            .service
            .store
            .requests_in_states(&[
                PendingApproval,
                Approved,
                Running,
                Paused,
                Completed,
                Denied,
                Expired,
                Cancelled,
                Stopped,
                DryRun,
            ])
            .await
            .unwrap()
    }

    /// Nothing happened: no request stored, nothing posted in the channel, no Okta reset.
    pub async fn assert_nothing_changed(&self) {
        assert!(self.all_requests().await.is_empty(), "a request was stored");
        assert!(
            self.w.slack.messages().is_empty(),
            "something was posted: {:?}",
            self.w.slack.messages()
        );
        assert!(
            self.w.okta.reset_calls().is_empty(),
            "Okta was asked to reset"
        );
    }

    /// What `assert_nothing_changed_since` compares: every request with its state and decision,
    /// every message with its edits, and Okta's reset calls.
    pub async fn snapshot(&self) -> Snapshot {
        let mut requests: Vec<_> = self
            .all_requests()
            .await
            .into_iter()
            .map(|r| (r.id.to_string(), r.state, r.decision))
            .collect();
        requests.sort_by(|a, b| a.0.cmp(&b.0));
        Snapshot {
            requests,
            messages: self
                .w
                .slack
                .messages()
                .into_iter()
                .map(|m| (m.ts, m.text, m.edits.len()))
                .collect(),
            resets: self.w.okta.reset_calls().len(),
        }
    }

    /// Like `assert_nothing_changed`, when earlier requests exist: no request stored or changed,
    /// nothing posted or edited, no Okta reset since `before`.
    pub async fn assert_nothing_changed_since(&self, before: &Snapshot) {
        let now = self.snapshot().await;
        assert_eq!(
            now.requests, before.requests,
            "a request was stored or changed"
        );
        assert_eq!(
            now.messages, before.messages,
            "something was posted or edited"
        );
        assert_eq!(now.resets, before.resets, "Okta was asked to reset");
    }

    /// Lets in-flight background work (spawned handlers) settle before asserting a negative.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// See `TestApp::snapshot`.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub requests: Vec<(String, State, Option<okta_reset::store::Decision>)>,
    pub messages: Vec<(String, String, usize)>,
    pub resets: usize,
}

/// The demo org with these logins stripped of their Okta admin role (admins are protected).
pub fn demo_org_without_admin_role(logins: &[&str]) -> SimOrg {
    let mut org = SimOrg::demo();
    for u in &mut org.users {
        if logins.contains(&u.login.as_str()) {
            u.roles.clear();
        }
    }
    org
}
