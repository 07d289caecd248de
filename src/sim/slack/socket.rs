//! Slack's Socket Mode side, on loopback: `apps.connections.open` (in `server.rs`) hands out a
//! one-use `ws://127.0.0.1:PORT/link/?ticket=…`; this server accepts that ticket, greets with
//! `hello`, delivers envelopes to the newest connection and waits for the ack carrying the same
//! `envelope_id`, and can send `disconnect` as Slack does before refreshing a connection.
//!
//! Like Slack, it loses what it cannot deliver: an envelope finds no connection open (after
//! the first), or its connection closes before the ack. It records every moment when no
//! connection was open after the first one ([`SocketHub::gaps`]). After `disconnect` with
//! `warning`/`refresh_requested` it closes that connection itself after [`REFRESH_CLOSE`]
//! unless the bot did; after `link_disabled` it closes every connection and accepts no more.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

/// How long after a `warning`/`refresh_requested` disconnect the sim closes that connection
/// if the bot has not (Slack: "about 10 seconds").
pub const REFRESH_CLOSE: Duration = Duration::from_secs(10);

/// The live socket server. Shared by the sim's HTTP side and the driver.
pub struct SocketHub {
    addr: SocketAddr,
    tickets: Mutex<HashSet<String>>,
    /// Open connections, oldest first: (connection number, outgoing frames).
    conns: Mutex<Vec<(usize, mpsc::UnboundedSender<Message>)>>,
    /// Envelopes waiting for their ack: id → (connection number, waiter).
    acks: Mutex<HashMap<String, (usize, oneshot::Sender<Value>)>>,
    opened: AtomicUsize,
    /// Since when no connection is open (after the first), and how many such gaps began.
    empty_since: Mutex<Option<Instant>>,
    gaps: AtomicUsize,
    /// Set by a `link_disabled` disconnect: no connection is accepted any more.
    disabled: AtomicBool,
    next: AtomicU64,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for SocketHub {
    fn drop(&mut self) {
        if let Some(t) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
    }
}

impl std::fmt::Debug for SocketHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketHub")
            .field("addr", &self.addr)
            .finish()
    }
}

impl SocketHub {
    pub async fn start() -> std::io::Result<Arc<SocketHub>> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let hub = Arc::new(SocketHub {
            addr: listener.local_addr()?,
            tickets: Mutex::default(),
            conns: Mutex::default(),
            acks: Mutex::default(),
            opened: AtomicUsize::new(0),
            empty_since: Mutex::new(None),
            gaps: AtomicUsize::new(0),
            disabled: AtomicBool::new(false),
            next: AtomicU64::new(0),
            task: Mutex::new(None),
        });
        let weak = Arc::downgrade(&hub);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Some(hub) = weak.upgrade() else { return };
                tokio::spawn(async move { hub.serve(tcp).await });
            }
        });
        *hub.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(hub)
    }

    /// A fresh one-use connection URL (what `apps.connections.open` returns).
    pub fn issue_url(&self) -> String {
        let ticket = format!("{:016x}", rand::random::<u64>());
        self.tickets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ticket.clone());
        format!("ws://{}/link/?ticket={ticket}&app_id=A0001", self.addr)
    }

    /// Connections accepted so far (a reconnect makes it grow).
    pub fn opened(&self) -> usize {
        self.opened.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_now(&self) -> usize {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// How many times, after the first connection, no connection at all was open (the current
    /// moment included): a time when Slack had nowhere to deliver.
    pub fn gaps(&self) -> usize {
        let ongoing = self
            .empty_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        self.gaps.load(Ordering::SeqCst) + usize::from(ongoing)
    }

    /// Connection `n` is gone: nothing more is routed to it, and its unacked envelopes are lost.
    fn forget(&self, n: usize) {
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        let before = conns.len();
        conns.retain(|(id, _)| *id != n);
        if before > 0 && conns.is_empty() {
            *self.empty_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        }
        drop(conns);
        // Dropping the waiters tells `deliver` the envelope was lost.
        self.acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, (conn, _)| *conn != n);
    }

    /// Closes connection `n` from Slack's side.
    fn close(&self, n: usize) {
        let tx = self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(id, _)| *id == n)
            .map(|(_, tx)| tx.clone());
        self.forget(n);
        if let Some(tx) = tx {
            let _ = tx.send(Message::Close(None));
        }
    }

    /// Drops every open connection without a `disconnect` first (a network failure).
    pub fn drop_connections(&self) {
        let ids: Vec<usize> = self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.close(id);
        }
    }

    async fn serve(self: Arc<Self>, tcp: tokio::net::TcpStream) {
        let hub = self.clone();
        // The signature is tungstenite's (`Callback`); its error type is not ours to shrink.
        #[allow(clippy::result_large_err)]
        let check = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let ticket = req
                .uri()
                .query()
                .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("ticket=")))
                .unwrap_or("");
            let known = hub
                .tickets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(ticket);
            if known && !hub.disabled.load(Ordering::SeqCst) {
                Ok(resp)
            } else {
                let mut r = ErrorResponse::new(Some("invalid or used ticket".into()));
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                Err(r)
            }
        };
        let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, check).await else {
            return;
        };
        let n = self.opened.fetch_add(1, Ordering::SeqCst) + 1;
        let (mut sink, mut stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let hello = json!({"type": "hello", "num_connections": n,
            "debug_info": {"host": "sim", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0001"}});
        let _ = tx.send(Message::Text(hello.to_string().into()));
        self.conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((n, tx));
        if self
            .empty_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .is_some()
        {
            self.gaps.fetch_add(1, Ordering::SeqCst);
        }
        let writer = tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        while let Some(Ok(msg)) = stream.next().await {
            let Message::Text(text) = msg else {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if let Some(id) = v["envelope_id"].as_str() {
                let waiter = self
                    .acks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(id);
                if let Some((_, w)) = waiter {
                    let _ = w.send(v);
                }
            }
        }
        self.forget(n);
        writer.abort();
    }

    /// Sends an envelope of `kind` (`slash_commands`, `interactive`, `events_api`) to the
    /// newest connection and returns the bot's ack, or why there was none: no connection open
    /// (waited for, up to 5 s, only before the bot's first connection), or the connection
    /// closed before the ack — the envelope is then lost, as it would be with Slack.
    pub async fn deliver(&self, kind: &str, payload: Value, retry: u32) -> Result<Value, String> {
        let id = format!(
            "{:08x}-sim-{}",
            rand::random::<u32>(),
            self.next.fetch_add(1, Ordering::SeqCst)
        );
        let mut envelope = json!({
            "envelope_id": id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api",
        });
        if kind == "events_api" {
            envelope["retry_attempt"] = json!(retry);
            envelope["retry_reason"] = json!(if retry > 0 { "timeout" } else { "" });
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let conn = loop {
            let newest = self
                .conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last()
                .map(|(n, tx)| (*n, tx.clone()));
            match newest {
                Some(c) => break c,
                None if self.opened() > 0 || Instant::now() > deadline => {
                    return Err(format!(
                        "envelope {id} lost: no Socket Mode connection open"
                    ))
                }
                None => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let (n, conn) = conn;
        let (tx, rx) = oneshot::channel();
        self.acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), (n, tx));
        conn.send(Message::Text(envelope.to_string().into()))
            .map_err(|_| format!("envelope {id} lost: the connection closed"))?;
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(ack)) => Ok(ack),
            Ok(Err(_)) => Err(format!(
                "envelope {id} lost: its connection closed before the ack"
            )),
            Err(_) => {
                self.acks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                Err(format!("no ack for envelope {id}"))
            }
        }
    }

    /// Sends `disconnect` with `reason` on every open connection, as Slack does: `warning` and
    /// `refresh_requested` (every few hours) before it closes a connection — the sim closes each
    /// after [`REFRESH_CLOSE`] if the bot has not — and `link_disabled` when Socket Mode is
    /// turned off for the app: the sim then closes them at once and accepts no new ones.
    pub fn disconnect(self: &Arc<Self>, reason: &str) {
        let msg = json!({"type": "disconnect", "reason": reason,
                         "debug_info": {"host": "sim"}});
        let conns: Vec<(usize, mpsc::UnboundedSender<Message>)> =
            self.conns.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for (_, tx) in &conns {
            let _ = tx.send(Message::Text(msg.to_string().into()));
        }
        if reason == "link_disabled" {
            self.disabled.store(true, Ordering::SeqCst);
            for (n, _) in conns {
                self.close(n);
            }
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(REFRESH_CLOSE).await;
            if let Some(hub) = weak.upgrade() {
                for (n, _) in conns {
                    hub.close(n);
                }
            }
        });
    }
}
