//! Socket Mode: the bot opens a WebSocket to Slack (`apps.connections.open` with the app-level
//! `xapp-` token gives a one-use `wss://` URL) instead of receiving HTTP requests, so it needs no
//! public address. Each envelope is handled in its own task — the connection never waits on one
//! — and acknowledged by its `envelope_id` with what the HTTP route would have answered
//! (`inbound::handle`, shared with HTTP). What happens on each `disconnect` and on a 429 is
//! listed at [`run`].
//!
//! Not slack-morphism's Socket Mode client: it acknowledges only after the callback returns and
//! handles one connection's messages one at a time.

mod connection;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use crate::config::is_loopback;
use crate::secret::{ExposeSecret, Secret};
use crate::service::Service;
use crate::slack::outbound::retry::{backoff, retry_after, RateGate};

pub use connection::envelope;

/// The rate gate's key (Tier 1: a few calls a minute).
const OPEN: &str = "apps.connections.open";

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The token is refused: retrying will not help (the bot does not start).
    #[error("{0}")]
    Token(String),
    /// HTTP 429: the connector calls again only after this wait (Slack's `Retry-After`, or a
    /// jittered backoff when it named none).
    #[error("apps.connections.open answered 429 (rate limited); next try in {0:?}")]
    RateLimited(Duration),
    /// Anything else (network, Slack having a bad minute): retried with a backoff.
    #[error("{0}")]
    Transient(String),
}

/// Opens connections for one app token.
#[derive(Clone)]
pub struct Connector {
    http: reqwest::Client,
    api_url: Url,
    app_token: Secret,
    /// Shared by clones: when the next call may go out, after a 429.
    gate: Arc<RateGate>,
    /// 429s in a row that named no Retry-After (for the backoff).
    refusals: Arc<AtomicU32>,
}

impl Connector {
    pub fn new(api_url: &Url, app_token: Secret) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("a reqwest client with only a timeout set always builds"),
            api_url: api_url.clone(),
            app_token,
            gate: Arc::default(),
            refusals: Arc::default(),
        }
    }

    /// `apps.connections.open`: a fresh WebSocket URL. `wss://` only (`ws://` for a loopback
    /// fake), since the URL is where every command and click will come from. After a 429 it
    /// first waits until Slack's `Retry-After` has passed, whoever calls.
    pub async fn open_url(&self) -> Result<Url, OpenError> {
        tokio::time::sleep(self.gate.remaining(OPEN)).await;
        let url = format!(
            "{}/apps.connections.open",
            self.api_url.as_str().trim_end_matches('/')
        );
        let resp = self
            .http
            .post(url)
            .bearer_auth(self.app_token.expose_secret())
            .send()
            .await
            .map_err(|e| OpenError::Transient(format!("apps.connections.open failed: {e}")))?;
        if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(resp.headers())
                .unwrap_or_else(|| backoff(self.refusals.fetch_add(1, Ordering::SeqCst)));
            self.gate.hold(OPEN, wait);
            return Err(OpenError::RateLimited(wait));
        }
        self.refusals.store(0, Ordering::SeqCst);
        let body: Value = resp.json().await.map_err(|e| {
            OpenError::Transient(format!("apps.connections.open answered non-JSON: {e}"))
        })?;
        if body["ok"].as_bool() != Some(true) {
            let error = body["error"].as_str().unwrap_or("unknown").to_string();
            return Err(match error.as_str() {
                "not_allowed_token_type" => OpenError::Token(
                    "Slack refused SLACK_APP_TOKEN for Socket Mode (not_allowed_token_type): it must be an app-level token (xapp-…) with the connections:write scope".into(),
                ),
                "invalid_auth" | "not_authed" | "token_revoked" | "account_inactive" => {
                    OpenError::Token(format!(
                        "Slack refused SLACK_APP_TOKEN ({error}): generate a new app-level token under Basic Information → App-Level Tokens"
                    ))
                }
                "missing_scope" => OpenError::Token(
                    "SLACK_APP_TOKEN lacks the connections:write scope: add it to the app-level token".into(),
                ),
                _ => OpenError::Transient(format!("apps.connections.open: {error}")),
            });
        }
        let ws = body["url"]
            .as_str()
            .and_then(|u| Url::parse(u).ok())
            .ok_or_else(|| OpenError::Transient("apps.connections.open gave no URL".into()))?;
        match ws.scheme() {
            "wss" => Ok(ws),
            "ws" if is_loopback(&ws) => Ok(ws),
            other => Err(OpenError::Transient(format!(
                "apps.connections.open gave a {other}:// URL; only wss:// is used"
            ))),
        }
    }
}

/// How Socket Mode ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The bot is shutting down.
    Stopped,
    /// Slack disabled Socket Mode for the app: the message says what to do.
    LinkDisabled(String),
}

/// What the bot says when Slack sends `disconnect` with `link_disabled`.
pub const LINK_DISABLED: &str = "Slack turned Socket Mode off for this app (disconnect reason link_disabled): okta-reset no longer receives commands, clicks or events and has stopped. Turn Socket Mode back on in the app's settings (Socket Mode → Enable Socket Mode), or set slack.mode = \"http\" with a Request URL, then start okta-reset again.";

/// How long a new connection may take to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs Socket Mode until `stop`, or until Slack disables it for the app.
///
/// - `disconnect` with `warning` or `refresh_requested`: a new connection is opened while the old
///   one keeps serving; the old one is closed only once the new one has said `hello` (and its
///   envelopes are acked), so no envelope falls between the two.
/// - `disconnect` with `link_disabled`: the bot stops Socket Mode with [`LINK_DISABLED`] rather
///   than reconnecting in a loop.
/// - A drop: a new connection at once.
/// - `apps.connections.open` answering 429: no new call before its `Retry-After` (the
///   connector's gate); a failure to connect otherwise: 1 s doubling to 30 s, jittered.
pub async fn run(
    svc: Arc<Service>,
    connector: Connector,
    first: Option<Url>,
    mut stop: watch::Receiver<bool>,
) -> Ended {
    let (reports, mut reported) = mpsc::unbounded_channel();
    let mut next_url = first;
    let mut current: Option<connection::Conn> = None;
    let mut want_new = true;
    let mut failures = 0u32;
    let mut opened = 0u64;
    loop {
        if *stop.borrow() {
            return Ended::Stopped;
        }
        if want_new {
            let attempt = connect(&connector, next_url.take());
            let result = tokio::select! {
                r = attempt => r,
                _ = stop.changed() => return Ended::Stopped,
            };
            match result {
                Ok(ws) => {
                    opened += 1;
                    failures = 0;
                    want_new = false;
                    let conn =
                        connection::spawn(svc.clone(), ws, opened, reports.clone(), stop.clone());
                    tracing::info!(connection = opened, "Socket Mode: connected to Slack");
                    if let Some(old) = current.replace(conn) {
                        tracing::info!(
                            connection = old.id,
                            "Socket Mode: closing the connection the new one replaces"
                        );
                        old.retire();
                    }
                }
                // The gate already holds the next call for Retry-After.
                Err(OpenError::RateLimited(wait)) => {
                    tracing::warn!(
                        retry_in_ms = wait.as_millis() as u64,
                        "Socket Mode: apps.connections.open answered 429; waiting as Slack asked"
                    );
                }
                Err(e) => {
                    let wait = backoff(failures);
                    failures += 1;
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "Socket Mode: cannot open a connection");
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => return Ended::Stopped,
                    }
                }
            }
            continue;
        }
        let Some((id, report)) = (tokio::select! {
            r = reported.recv() => r,
            _ = stop.changed() => return Ended::Stopped,
        }) else {
            return Ended::Stopped;
        };
        let is_current = current.as_ref().is_some_and(|c| c.id == id);
        match report {
            connection::Report::LinkDisabled => {
                tracing::error!("{LINK_DISABLED}");
                if let Some(c) = current.take() {
                    c.retire();
                }
                return Ended::LinkDisabled(LINK_DISABLED.to_string());
            }
            connection::Report::Refresh(reason) if is_current => {
                tracing::info!(connection = id, %reason, "Socket Mode: opening a new connection before this one closes");
                want_new = true;
            }
            connection::Report::Ended(why) if is_current => {
                tracing::info!(connection = id, reason = %why, "Socket Mode: reconnecting");
                current = None;
                want_new = true;
            }
            connection::Report::Refresh(_) | connection::Report::Ended(_) => {}
        }
    }
}

/// A new connection, greeted: `apps.connections.open` (unless a URL is at hand), the WebSocket,
/// then Slack's `hello`.
async fn connect(connector: &Connector, url: Option<Url>) -> Result<connection::Ws, OpenError> {
    let url = match url {
        Some(u) => u,
        None => connector.open_url().await?,
    };
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| OpenError::Transient(format!("the WebSocket did not open: {e}")))?;
    let hello = tokio::time::timeout(HELLO_TIMEOUT, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    if v["type"] == "hello" {
                        return Ok(v);
                    }
                    tracing::warn!("Socket Mode: a message before hello was ignored");
                }
                Ok(Message::Close(_)) => break,
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("closed before hello".to_string())
    })
    .await
    .map_err(|_| OpenError::Transient("no hello from Slack within 10 s".into()))?
    .map_err(|e| OpenError::Transient(format!("the WebSocket failed before hello: {e}")))?;
    tracing::debug!(
        connections = hello["num_connections"].as_u64(),
        approximate_connection_time = hello["debug_info"]["approximate_connection_time"].as_u64(),
        "Socket Mode: hello"
    );
    Ok(ws)
}
