//! Slack's side towards the bot: signed slash commands and button clicks, posted to the bot's
//! HTTP endpoints (`/slack/commands`, `/slack/interactions`) in the shapes Slack sends. Events
//! API callbacks and form submissions are in `driver/intake.rs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::{json, Value};

use std::sync::Arc;

use super::server::SlackSim;
use super::socket::SocketHub;
use crate::slack::verify::sign;

mod intake;

/// What the bot answered.
#[derive(Debug, Clone)]
pub struct DriverResponse {
    /// HTTP status; 0 when the request never got an answer (connection refused, timeout), with
    /// the transport error in `body`.
    pub status: u16,
    pub body: String,
    /// `body` parsed as JSON, when it is JSON.
    pub json: Option<Value>,
    /// From sending the request to having read the whole answer (Slack gives up after 3 s).
    pub elapsed: Duration,
}

/// Plays Slack towards the bot at `bot_base_url`.
#[derive(Debug)]
pub struct SlackDriver {
    bot_base_url: String,
    signing_secret: String,
    team_id: String,
    team_domain: String,
    api_app_id: String,
    command: String,
    /// The sim that `response_url`s point at, and where user names and clicked messages are
    /// looked up.
    sim: Option<SlackSim>,
    http: reqwest::Client,
    nonce: AtomicU64,
    /// Socket Mode: deliver as envelopes over the sim's WebSocket instead of HTTP POSTs.
    socket: Option<Arc<SocketHub>>,
}

/// Slack's escaping of user-typed text: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn action_ts() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

fn trigger_id() -> String {
    let mut r = rand::thread_rng();
    format!(
        "{}.{}.{:032x}",
        r.gen_range(100_000_000_000u64..999_999_999_999),
        r.gen_range(10_000_000_000u64..99_999_999_999),
        r.gen::<u128>()
    )
}

impl SlackDriver {
    /// `bot_base_url` like `http://127.0.0.1:3000` (no trailing slash needed).
    pub fn new(bot_base_url: &str, signing_secret: &str, team_id: &str) -> Self {
        SlackDriver {
            bot_base_url: bot_base_url.trim_end_matches('/').to_string(),
            signing_secret: signing_secret.to_string(),
            team_id: team_id.to_string(),
            team_domain: "sim".to_string(),
            api_app_id: "A0001".to_string(),
            command: "/okta-reset".to_string(),
            sim: None,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("a reqwest client with only a timeout set always builds"),
            nonce: AtomicU64::new(0),
            socket: None,
        }
    }

    /// Delivers everything as Socket Mode envelopes through `hub` (the bot must be connected to
    /// it): the same payloads, acked by `envelope_id` instead of answered over HTTP.
    pub fn with_socket(mut self, hub: Arc<SocketHub>) -> Self {
        self.socket = Some(hub);
        self
    }

    /// Points `response_url`s at `sim` (so the bot's replies there are recorded) and looks up user
    /// names and clicked messages there.
    pub fn with_sim(mut self, sim: &SlackSim) -> Self {
        self.sim = Some(sim.clone());
        self
    }

    pub fn with_api_app_id(mut self, api_app_id: &str) -> Self {
        self.api_app_id = api_app_id.to_string();
        self
    }

    /// The slash command's name (default `/okta-reset`).
    pub fn with_command(mut self, command: &str) -> Self {
        self.command = command.to_string();
        self
    }

    fn user_name(&self, user_id: &str) -> String {
        self.sim
            .as_ref()
            .and_then(|s| s.user(user_id))
            .map(|u| u.name)
            .unwrap_or_else(|| user_id.to_ascii_lowercase())
    }

    fn channel_name(channel_id: &str) -> String {
        format!("ch-{}", channel_id.to_ascii_lowercase())
    }

    /// A fresh `response_url`: on the sim when there is one, else a dead Slack-looking URL.
    fn response_url(&self, kind: &str, channel: &str, user: &str, ts: Option<&str>) -> String {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed) + 1;
        let ts = ts.map(|t| format!("{t}/")).unwrap_or_default();
        let base = match &self.sim {
            Some(sim) => sim.base_url(),
            None => "https://hooks.slack.invalid".to_string(),
        };
        format!(
            "{base}/hooks/{kind}/{}/{channel}/{user}/{ts}{n}",
            self.team_id
        )
    }

    /// The form body of a slash command, fields in Slack's order, `text` escaped as Slack does.
    pub fn slash_body(&self, user_id: &str, channel_id: &str, text: &str) -> Vec<u8> {
        self.slash_body_as_sent(user_id, channel_id, &slack_escape(text))
    }

    /// The same, with `sent` exactly as Slack would deliver it (already escaped, with its link
    /// markup such as `<https://host/path|label>` for a formatted link).
    pub fn slash_body_as_sent(&self, user_id: &str, channel_id: &str, sent: &str) -> Vec<u8> {
        // With a sim, the trigger can open a modal there (`views.open`) for the next 3 s.
        let trigger = trigger_id();
        if let Some(sim) = &self.sim {
            sim.issue_trigger(&trigger, user_id);
        }
        let fields = [
            ("token", "sim-verification-token".to_string()),
            ("team_id", self.team_id.clone()),
            ("team_domain", self.team_domain.clone()),
            ("channel_id", channel_id.to_string()),
            ("channel_name", Self::channel_name(channel_id)),
            ("user_id", user_id.to_string()),
            ("user_name", self.user_name(user_id)),
            ("command", self.command.clone()),
            ("text", sent.to_string()),
            ("api_app_id", self.api_app_id.clone()),
            ("is_enterprise_install", "false".to_string()),
            (
                "response_url",
                self.response_url("commands", channel_id, user_id, None),
            ),
            ("trigger_id", trigger),
        ];
        serde_urlencoded::to_string(fields)
            .expect("string pairs always encode")
            .into_bytes()
    }

    /// The `block_actions` payload (JSON) of a button click on `message_ts`. With a sim, the
    /// button's label and block id and the message's text and blocks come from the recorded
    /// message; otherwise the label is the capitalised `action_id` and the block id `decision`.
    pub fn click_payload(
        &self,
        user_id: &str,
        channel_id: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> Value {
        let msg = self.sim.as_ref().and_then(|s| {
            s.messages()
                .into_iter()
                .find(|m| m.channel == channel_id && m.ts == message_ts)
        });
        let button = msg.as_ref().and_then(|m| find_button(&m.blocks, action_id));
        let (block_id, label) =
            button.unwrap_or_else(|| ("decision".into(), capitalise(action_id)));
        let mut message = json!({"type": "message", "ts": message_ts, "text": ""});
        if let Some(m) = &msg {
            message["text"] = json!(m.text);
            message["user"] = json!(m.user);
            if m.blocks.is_array() {
                message["blocks"] = m.blocks.clone();
            }
            if let Some(t) = &m.thread_ts {
                message["thread_ts"] = json!(t);
            }
        }
        json!({
            "type": "block_actions",
            "user": {"id": user_id, "username": self.user_name(user_id),
                     "name": self.user_name(user_id), "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": "sim-verification-token",
            "container": {"type": "message", "message_ts": message_ts,
                          "channel_id": channel_id, "is_ephemeral": false},
            "trigger_id": trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": null,
            "is_enterprise_install": false,
            "channel": {"id": channel_id, "name": Self::channel_name(channel_id)},
            "message": message,
            "state": {"values": {}},
            "response_url": self.response_url("actions", channel_id, user_id, Some(message_ts)),
            "actions": [{
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": action_ts(),
                "text": {"type": "plain_text", "text": label, "emoji": true},
            }],
        })
    }

    /// POST `{bot}/slack/commands`, signed now.
    pub async fn slash(&self, user_id: &str, channel_id: &str, text: &str) -> DriverResponse {
        self.slash_as_sent(user_id, channel_id, &slack_escape(text))
            .await
    }

    /// POST `{bot}/slack/commands` with `sent` as Slack delivers it (see `slash_body_as_sent`).
    pub async fn slash_as_sent(
        &self,
        user_id: &str,
        channel_id: &str,
        sent: &str,
    ) -> DriverResponse {
        let body = self.slash_body_as_sent(user_id, channel_id, sent);
        self.post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            now_unix(),
        )
        .await
    }

    /// POST `{bot}/slack/interactions` with `payload=<block_actions JSON>`, signed now.
    pub async fn click(
        &self,
        user_id: &str,
        channel_id: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> DriverResponse {
        let payload = self.click_payload(user_id, channel_id, message_ts, action_id, value);
        let body = serde_urlencoded::to_string([("payload", payload.to_string())])
            .expect("string pairs always encode")
            .into_bytes();
        self.post_signed(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            body,
            now_unix(),
        )
        .await
    }

    /// POST any body to `{bot}{path}`, signed as if sent at `timestamp` (unix seconds).
    pub async fn post_signed(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        timestamp: i64,
    ) -> DriverResponse {
        let ts = timestamp.to_string();
        let sig = sign(&self.signing_secret, &ts, &body);
        let headers = vec![
            ("X-Slack-Request-Timestamp".to_string(), ts),
            ("X-Slack-Signature".to_string(), sig),
        ];
        self.post_raw(path, content_type, body, headers).await
    }

    /// POST to `{bot}{path}` with exactly these extra headers and no signing (forgery tests).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    ) -> DriverResponse {
        if let Some(hub) = &self.socket {
            return deliver_envelope(hub, path, &body, &headers).await;
        }
        let url = format!("{}{}", self.bot_base_url, path);
        let mut req = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let started = Instant::now();
        let result = async {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let body = resp.text().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        let elapsed = started.elapsed();
        let (status, body) = result.unwrap_or_else(|e| (0, format!("request failed: {e}")));
        let json = serde_json::from_str(&body).ok();
        DriverResponse {
            status,
            body,
            json,
            elapsed,
        }
    }
}

/// `(block_id, label)` of the button `action_id` in `blocks` (actions blocks and accessories).
fn find_button(blocks: &Value, action_id: &str) -> Option<(String, String)> {
    for b in blocks.as_array()? {
        let block_id = b
            .get("block_id")
            .and_then(Value::as_str)
            .unwrap_or("decision");
        let mut elements: Vec<&Value> = b
            .get("elements")
            .and_then(Value::as_array)
            .map(|e| e.iter().collect())
            .unwrap_or_default();
        elements.extend(b.get("accessory"));
        for e in elements {
            if e.get("action_id").and_then(Value::as_str) == Some(action_id) {
                let label = e
                    .pointer("/text/text")
                    .and_then(Value::as_str)
                    .map_or_else(|| capitalise(action_id), str::to_string);
                return Some((block_id.to_string(), label));
            }
        }
    }
    None
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// An HTTP request's body as the Socket Mode envelope Slack would send instead: a slash
/// command's form fields as a JSON object, an interaction's `payload`, an event callback as is.
async fn deliver_envelope(
    hub: &SocketHub,
    path: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> DriverResponse {
    let started = Instant::now();
    let (kind, payload) = match path {
        "/slack/commands" => {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(body).unwrap_or_default();
            let map: serde_json::Map<String, Value> = pairs
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            ("slash_commands", Value::Object(map))
        }
        "/slack/interactions" => {
            let pairs: Vec<(String, String)> =
                serde_urlencoded::from_bytes(body).unwrap_or_default();
            let payload = pairs
                .into_iter()
                .find(|(k, _)| k == "payload")
                .and_then(|(_, v)| serde_json::from_str(&v).ok())
                .unwrap_or(Value::Null);
            ("interactive", payload)
        }
        _ => (
            "events_api",
            serde_json::from_slice(body).unwrap_or(Value::Null),
        ),
    };
    let retry = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-slack-retry-num"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let (status, body, json) = match hub.deliver(kind, payload, retry).await {
        Ok(ack) => {
            let p = ack.get("payload").cloned();
            let body = p.as_ref().map(Value::to_string).unwrap_or_default();
            (200, body, p)
        }
        Err(e) => (0, e, None),
    };
    DriverResponse {
        status,
        body,
        json,
        elapsed: started.elapsed(),
    }
}
