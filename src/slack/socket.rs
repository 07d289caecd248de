//! Socket Mode: the bot opens a WebSocket to Slack (`apps.connections.open` with the app-level
//! `xapp-` token gives a one-use `wss://` URL) instead of receiving HTTP requests, so it needs no
//! public address. Each envelope is handled in its own task — the connection never waits on one
//! — and acknowledged by its `envelope_id` with what the HTTP route would have answered
//! (`inbound::handle`, shared with HTTP). Slack refreshes connections every few hours with a
//! `disconnect` message; the bot then connects again, as it does after any drop.
//!
//! Not slack-morphism's Socket Mode client: it acknowledges only after the callback returns and
//! handles one connection's messages one at a time.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use crate::config::is_loopback;
use crate::secret::Secret;
use crate::service::Service;
use crate::slack::inbound::handle::{self, Ack, SlashForm};
use crate::slack::inbound::ops::new_request_id;
use tracing::Instrument;

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The token is refused: retrying will not help (the bot does not start).
    #[error("{0}")]
    Token(String),
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
        }
    }

    /// `apps.connections.open`: a fresh WebSocket URL. `wss://` only (`ws://` for a loopback
    /// fake), since the URL is where every command and click will come from.
    pub async fn open_url(&self) -> Result<Url, OpenError> {
        let url = format!(
            "{}/apps.connections.open",
            self.api_url.as_str().trim_end_matches('/')
        );
        let resp = self
            .http
            .post(url)
            .bearer_auth(self.app_token.expose())
            .send()
            .await
            .map_err(|e| OpenError::Transient(format!("apps.connections.open failed: {e}")))?;
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

/// Runs Socket Mode until `stop`: connect, handle envelopes, connect again after a `disconnect`
/// or a drop (1 s, doubling to 30 s, while connecting fails).
pub async fn run(
    svc: Arc<Service>,
    connector: Connector,
    first: Option<Url>,
    mut stop: watch::Receiver<bool>,
) {
    let mut next = first;
    let mut backoff = Duration::from_secs(1);
    let mut connections = 0u64;
    loop {
        if *stop.borrow() {
            return;
        }
        let url = match next.take() {
            Some(u) => u,
            None => match connector.open_url().await {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_secs = backoff.as_secs(), "Socket Mode: cannot open a connection");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
        };
        match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok((ws, _)) => {
                connections += 1;
                backoff = Duration::from_secs(1);
                tracing::info!(connection = connections, "Socket Mode: connected to Slack");
                let why = serve_connection(&svc, ws, &mut stop).await;
                if *stop.borrow() {
                    return;
                }
                tracing::info!(connection = connections, reason = %why, "Socket Mode: reconnecting");
            }
            Err(e) => {
                tracing::warn!(error = %e, "Socket Mode: the WebSocket did not open");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One connection's life; returns why it ended.
async fn serve_connection(svc: &Arc<Service>, ws: Ws, stop: &mut watch::Receiver<bool>) -> String {
    let (mut sink, mut stream) = ws.split();
    let (acks, mut to_send) = mpsc::unbounded_channel::<String>();
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return "shutting down".into();
            }
            Some(ack) = to_send.recv() => {
                if let Err(e) = sink.send(Message::Text(ack.into())).await {
                    return format!("sending an ack failed: {e}");
                }
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        tracing::warn!("Socket Mode: a message that is not JSON was ignored");
                        continue;
                    };
                    match v["type"].as_str() {
                        Some("hello") => tracing::debug!("Socket Mode: hello"),
                        Some("disconnect") => {
                            let reason = v["reason"].as_str().unwrap_or("unknown").to_string();
                            let _ = sink.send(Message::Close(None)).await;
                            return format!("Slack asked to reconnect ({reason})");
                        }
                        Some(_) => {
                            let svc = svc.clone();
                            let acks = acks.clone();
                            let span = tracing::info_span!("envelope", rid = %new_request_id(), kind = v["type"].as_str().unwrap_or(""));
                            tokio::spawn(async move {
                                if let Some(ack) = envelope(&svc, v).await {
                                    let _ = acks.send(ack);
                                }
                            }.instrument(span));
                        }
                        None => {}
                    }
                }
                // Pings are answered by tungstenite itself; binary frames are not Slack's.
                Some(Ok(Message::Close(_))) | None => return "the connection closed".into(),
                Some(Ok(_)) => {}
                Some(Err(e)) => return format!("the connection failed: {e}"),
            }
        }
    }
}

/// Handles one envelope the way its HTTP route would and returns the ack to send (`None` for
/// a message that carries no `envelope_id`).
pub async fn envelope(svc: &Arc<Service>, v: Value) -> Option<String> {
    let id = v["envelope_id"].as_str()?.to_string();
    let payload = &v["payload"];
    let ack = match v["type"].as_str().unwrap_or("") {
        "slash_commands" => match serde_json::from_value::<SlashForm>(payload.clone()) {
            Ok(form) => handle::slash(svc, form).await,
            Err(_) => Ack::Malformed("not a slash command"),
        },
        "interactive" => handle::interaction(svc, payload).await,
        "events_api" => {
            let retry = v["retry_attempt"]
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| n as u32);
            handle::event(svc, payload, retry)
        }
        other => {
            tracing::debug!(
                kind = other,
                "Socket Mode: an envelope of a kind the bot does not use"
            );
            Ack::Empty
        }
    };
    let kind = v["type"].as_str().unwrap_or("other");
    crate::metrics::request(
        kind,
        if matches!(ack, Ack::Malformed(_)) {
            "refused"
        } else {
            "ok"
        },
    );
    let msg = match ack {
        Ack::Json(p) => json!({"envelope_id": id, "payload": p}),
        Ack::Empty => json!({"envelope_id": id}),
        Ack::Malformed(why) => {
            tracing::warn!(
                reason = why,
                "Socket Mode: a malformed envelope was acknowledged and dropped"
            );
            json!({"envelope_id": id})
        }
    };
    Some(msg.to_string())
}
