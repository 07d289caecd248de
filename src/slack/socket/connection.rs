//! One Socket Mode connection's life: read envelopes, handle each in its own task, send its ack,
//! and tell the supervisor (`super::run`) what Slack said about the connection. Retired (a newer
//! connection is open), it keeps reading for a short grace — Slack may still be sending on it —
//! and closes once its envelopes are acked.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tracing::Instrument;

use crate::service::Service;
use crate::slack::inbound::handle::{self, Ack, SlashForm};
use crate::slack::inbound::ops::new_request_id;

pub(super) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a retired connection keeps reading before it closes (if its envelopes are acked).
const RETIRE_GRACE: Duration = Duration::from_secs(1);
/// The longest a retired connection waits for its envelopes' acks: Slack's own 3 s.
const RETIRE_MAX: Duration = Duration::from_secs(4);

/// What a connection tells the supervisor.
#[derive(Debug)]
pub(super) enum Report {
    /// `disconnect` with `warning` or `refresh_requested` (or a reason the bot does not know):
    /// Slack will close this connection soon; it keeps serving until a new one is open.
    Refresh(String),
    /// `disconnect` with `link_disabled`: Socket Mode was turned off for the app.
    LinkDisabled,
    /// The connection ended (the reason, for the log).
    Ended(String),
}

/// A running connection, as the supervisor holds it.
pub(super) struct Conn {
    pub id: u64,
    retire: Option<oneshot::Sender<()>>,
}

impl Conn {
    /// A newer connection is open: finish on this one and close it.
    pub fn retire(mut self) {
        if let Some(tx) = self.retire.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts serving `ws` (already greeted with `hello`) in its own task.
pub(super) fn spawn(
    svc: Arc<Service>,
    ws: Ws,
    id: u64,
    reports: mpsc::UnboundedSender<(u64, Report)>,
    stop: watch::Receiver<bool>,
) -> Conn {
    let (retire, retired) = oneshot::channel();
    tokio::spawn(async move {
        let why = serve(&svc, ws, id, &reports, retired, stop).await;
        let _ = reports.send((id, Report::Ended(why)));
    });
    Conn {
        id,
        retire: Some(retire),
    }
}

async fn serve(
    svc: &Arc<Service>,
    ws: Ws,
    id: u64,
    reports: &mpsc::UnboundedSender<(u64, Report)>,
    mut retired: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) -> String {
    let (mut sink, mut stream) = ws.split();
    // Every envelope task answers here, with its ack or `None`; `in_flight` counts the rest.
    let (acks, mut to_send) = mpsc::unbounded_channel::<Option<String>>();
    let mut in_flight = 0usize;
    // Set once retired: read until then, and close when nothing is in flight.
    let mut close_at: Option<(Instant, Instant)> = None;
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    loop {
        let check_at = close_at.map(|(grace, _)| grace).unwrap_or(far);
        tokio::select! {
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return "shutting down".into();
            }
            Ok(()) = &mut retired, if close_at.is_none() => {
                let now = Instant::now();
                close_at = Some((now + RETIRE_GRACE, now + RETIRE_MAX));
            }
            _ = tokio::time::sleep_until(check_at), if close_at.is_some() => {
                let (_, last) = close_at.expect("set");
                if in_flight == 0 || Instant::now() >= last {
                    let _ = sink.send(Message::Close(None)).await;
                    return format!("retired: a newer connection is open ({in_flight} envelopes unanswered)");
                }
                close_at = Some((Instant::now() + Duration::from_millis(100), last));
            }
            Some(ack) = to_send.recv() => {
                in_flight = in_flight.saturating_sub(1);
                if let Some(ack) = ack {
                    if let Err(e) = sink.send(Message::Text(ack.into())).await {
                        return format!("sending an ack failed: {e}");
                    }
                }
            }
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        tracing::warn!("Socket Mode: a message that is not JSON was ignored");
                        continue;
                    };
                    match v["type"].as_str() {
                        Some("hello") => tracing::debug!(connection = id, "Socket Mode: hello"),
                        Some("disconnect") => {
                            let reason = v["reason"].as_str().unwrap_or("unknown").to_string();
                            tracing::info!(connection = id, %reason, "Socket Mode: Slack sent disconnect");
                            if reason == "link_disabled" {
                                let _ = reports.send((id, Report::LinkDisabled));
                                let _ = sink.send(Message::Close(None)).await;
                                return "Socket Mode was disabled for the app (link_disabled)".into();
                            }
                            let _ = reports.send((id, Report::Refresh(reason)));
                        }
                        Some(_) => {
                            in_flight += 1;
                            let svc = svc.clone();
                            let acks = acks.clone();
                            let span = tracing::info_span!("envelope", rid = %new_request_id(), kind = v["type"].as_str().unwrap_or(""));
                            tokio::spawn(async move {
                                let _ = acks.send(envelope(&svc, v).await);
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
