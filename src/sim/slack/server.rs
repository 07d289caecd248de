//! The HTTP side of the sim: Slack's Web API under `/api/…` and the `response_url` hooks under
//! `/hooks/…`, served by axum on 127.0.0.1 with an OS-chosen port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use tokio::task::JoinHandle;

use super::record::{
    message_json, SimEphemeral, SimHookPost, SimMessage, SimSlackUser, SlackErr, SlackSimConfig,
    State,
};
use super::uploads::SimUpload;

/// `bot_id` reported by `auth.test` and on the bot's messages.
pub const SIM_BOT_ID: &str = "B0001";

type Shared = Arc<Mutex<State>>;

/// A running simulated Slack workspace. Cloning shares the same server; the server stops when the
/// last clone is dropped.
#[derive(Clone)]
pub struct SlackSim {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    /// Copy of `config.bot_token` (the config never changes after start).
    bot_token: String,
    state: Shared,
    task: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for SlackSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSim")
            .field("addr", &self.inner.addr)
            .finish()
    }
}

impl SlackSim {
    /// Binds 127.0.0.1 on a free port and serves until the last handle is dropped.
    pub async fn start(config: SlackSimConfig) -> std::io::Result<SlackSim> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let bot_token = config.bot_token.clone();
        let mut initial = State::new(config);
        initial.uploads.base_url = format!("http://{addr}");
        let state: Shared = Arc::new(Mutex::new(initial));
        let socket = super::socket::SocketHub::start().await?;
        lock(&state).socket = Some(socket);
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "slack sim server stopped");
            }
        });
        Ok(SlackSim {
            inner: Arc::new(Inner {
                addr,
                bot_token,
                state,
                task,
            }),
        })
    }

    /// `http://127.0.0.1:PORT/api` — no trailing slash: slack-morphism's
    /// `with_slack_api_url` joins it as `{url}/{method}`. (A trailing-slash base also works: the
    /// sim ignores the doubled slash.)
    pub fn api_url(&self) -> String {
        format!("{}/api", self.base_url())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn bot_token(&self) -> &str {
        &self.inner.bot_token
    }

    /// The app-level token that opens Socket Mode connections.
    pub fn app_token(&self) -> String {
        self.lock().config.app_token.clone()
    }

    /// Socket Mode's server: deliver envelopes, send `disconnect`, count connections.
    pub fn socket(&self) -> Arc<super::socket::SocketHub> {
        self.lock().socket.clone().expect("started with the sim")
    }

    pub fn config(&self) -> SlackSimConfig {
        self.lock().config.clone()
    }

    pub fn user(&self, id: &str) -> Option<SimSlackUser> {
        self.lock().user(id).cloned()
    }

    /// Adds `user` to the workspace, or replaces the member with the same id (a guest turned
    /// member, a deactivated account, a Slack Connect user from another team).
    pub fn put_user(&self, user: SimSlackUser) {
        let mut s = self.lock();
        s.config.users.retain(|u| u.id != user.id);
        s.config.users.push(user);
    }

    /// Creates the user group `id` with these members, or replaces its members.
    pub fn put_usergroup(&self, id: &str, members: &[&str]) {
        let mut s = self.lock();
        s.config.usergroups.retain(|(g, _)| g != id);
        s.config.usergroups.push((
            id.to_string(),
            members.iter().map(|m| m.to_string()).collect(),
        ));
    }

    /// Channel messages (roots and replies, all channels) in post order, each as it is now.
    pub fn messages(&self) -> Vec<SimMessage> {
        self.lock().messages.clone()
    }

    /// `chat.postEphemeral` calls and ephemeral `response_url` replies, in order.
    pub fn ephemerals(&self) -> Vec<SimEphemeral> {
        self.lock().ephemerals.clone()
    }

    /// Every POST to a `response_url`, raw.
    pub fn hook_posts(&self) -> Vec<SimHookPost> {
        self.lock().hook_posts.clone()
    }

    /// How many calls of `method` reached the sim (including refused ones). `response_url` posts
    /// count under `"response_url"`.
    pub fn api_calls(&self, method: &str) -> usize {
        self.lock().calls.get(method).copied().unwrap_or(0)
    }

    /// The root `root_ts` in `channel` followed by its replies, in order (empty if no such root).
    pub fn thread(&self, channel: &str, root_ts: &str) -> Vec<SimMessage> {
        self.lock()
            .messages
            .iter()
            .filter(|m| {
                m.channel == channel
                    && (m.ts == root_ts && m.thread_ts.is_none()
                        || m.thread_ts.as_deref() == Some(root_ts))
            })
            .cloned()
            .collect()
    }

    /// Polls `f` every 10 ms until it holds or `timeout` passes; the error names `what`.
    pub async fn wait_for<F: Fn(&SlackSim) -> bool>(
        &self,
        what: &str,
        timeout: Duration,
        f: F,
    ) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if f(self) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                let (m, e) = {
                    let s = self.lock();
                    (s.messages.len(), s.ephemerals.len())
                };
                return Err(format!(
                    "timed out after {timeout:?} waiting for {what} \
                     (sim holds {m} messages, {e} ephemerals)"
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Human-readable rendering of `channel`; see [`super::transcript`].
    pub fn transcript(&self, channel: &str) -> String {
        super::transcript::render(&self.lock(), channel)
    }

    /// The next `n` calls of `method` get HTTP 429 with `Retry-After: retry_after_secs`. File
    /// bytes posted to an upload URL count as `"upload"`, private downloads as `"download"`.
    pub fn rate_limit_next(&self, method: &str, n: usize, retry_after_secs: u64) {
        self.lock().limits.queue(method, n, retry_after_secs);
    }

    /// `method` allows at most `max` calls in any `per`; past that it answers 429 with the
    /// `Retry-After` until its oldest call leaves the window. (`apps.connections.open` starts
    /// with 5 a minute.)
    pub fn limit_calls(&self, method: &str, max: usize, per: Duration) {
        self.lock().limits.limit(method, max, per);
    }

    /// When each call of `method` reached the sim, in order (refused ones included).
    pub fn call_times(&self, method: &str) -> Vec<std::time::Instant> {
        self.lock().limits.times(method)
    }

    /// Calls made before the `Retry-After` of the method's last 429 had passed: Slack refuses
    /// them again, and a bot that makes them is ignoring Slack's rate limits.
    pub fn retry_after_violations(&self) -> Vec<String> {
        self.lock().limits.violations()
    }

    /// The next `n` calls of `method` answer `{"ok":false,"error":error}`.
    pub fn fail_next(&self, method: &str, n: usize, error: &str) {
        self.lock()
            .failures
            .insert(method.to_string(), (n, error.to_string()));
    }

    /// Files uploaded with `files.getUploadURLExternal` (whether or not completed), in order.
    pub fn uploads(&self) -> Vec<SimUpload> {
        self.lock().uploads.files.clone()
    }

    /// The next `n` POSTs of file bytes to an upload URL answer HTTP 500.
    pub fn fail_next_upload_posts(&self, n: usize) {
        self.lock().uploads.failing_posts = n;
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }
}

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn handle(
    AxState(state): AxState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/api/") {
        let api_method = rest.trim_start_matches('/').to_string();
        let params = match params(&uri, &headers, &body) {
            Ok(p) => p,
            Err(e) => return slack_json(Err(e)),
        };
        return api(&state, &api_method, &headers, &params);
    }
    if path.starts_with("/upload/v1/") && method == Method::POST {
        let mut s = lock(&state);
        if let Some(secs) = s.limits.check("upload") {
            return too_many(secs);
        }
        return super::uploads::receive(&mut s, &path, &body);
    }
    if path.starts_with("/files-pri/") && method == Method::GET {
        let mut s = lock(&state);
        if let Some(secs) = s.limits.check("download") {
            return too_many(secs);
        }
        return super::intake::download(&mut s, &path, &headers);
    }
    if path.starts_with("/hooks/") && method == Method::POST {
        return super::hooks::handle(&mut lock(&state), &path, &body);
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// Query string, then the body (JSON or form), merged; body fields win.
fn params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, SlackErr> {
    let mut out = Map::new();
    if let Some(q) = uri.query() {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(q).map_err(|_| "invalid_arguments")?;
        for (k, v) in pairs {
            out.insert(k, Value::String(v));
        }
    }
    if body.is_empty() {
        return Ok(out);
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => out.extend(m),
            _ => return Err("invalid_json"),
        }
    } else {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|_| "invalid_form_data")?;
        for (k, v) in pairs {
            out.insert(k, Value::String(v));
        }
    }
    Ok(out)
}

/// A parameter as a non-empty string (numbers and booleans are stringified).
pub(crate) fn param(p: &Map<String, Value>, key: &str) -> Option<String> {
    let s = match p.get(key)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// `blocks` as a JSON array: given as an array (JSON bodies) or a JSON string (forms, queries).
/// `Ok(None)` when absent.
pub(crate) fn blocks_param(p: &Map<String, Value>) -> Result<Option<Value>, SlackErr> {
    let blocks = match p.get("blocks") {
        None | Some(Value::Null) => return Ok(None),
        Some(v @ Value::Array(_)) => v.clone(),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Array(_)) => v,
            _ => return Err("invalid_blocks"),
        },
        Some(_) => return Err("invalid_blocks"),
    };
    within_block_limits(&blocks)?;
    Ok(Some(blocks))
}

/// Block Kit's documented limits for a message, refused as Slack does (`invalid_blocks`): at
/// most 50 blocks, a section's text 3000 characters, a header's 150, a context's 10 elements of
/// 3000 characters, a `block_id` 255. So a message the bot builds past them fails in tests too.
fn within_block_limits(blocks: &Value) -> Result<(), SlackErr> {
    let list = blocks.as_array().ok_or("invalid_blocks")?;
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let too_long = list.len() > 50
        || list.iter().any(|b| {
            chars(&b["block_id"]) > 255
                || match b["type"].as_str() {
                    Some("section") => chars(&b["text"]["text"]) > 3000,
                    Some("header") => chars(&b["text"]["text"]) > 150,
                    Some("context") => b["elements"].as_array().is_some_and(|e| {
                        e.len() > 10 || e.iter().any(|e| chars(&e["text"]) > 3000)
                    }),
                    _ => false,
                }
        });
    if too_long {
        Err("invalid_blocks")
    } else {
        Ok(())
    }
}

fn api(state: &Shared, method: &str, headers: &HeaderMap, p: &Map<String, Value>) -> Response {
    let mut s = lock(state);
    *s.calls.entry(method.to_string()).or_insert(0) += 1;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if method == "apps.connections.open" {
        return slack_json(match bearer {
            Some(t) if t == s.config.app_token => {
                if let Some(secs) = s.limits.check(method) {
                    return too_many(secs);
                }
                match &s.socket {
                    Some(hub) => Ok(json!({ "url": hub.issue_url() })),
                    None => Err("internal_error"),
                }
            }
            // Slack's answer to a bot or user token here.
            Some(t) if t.starts_with("xox") => Err("not_allowed_token_type"),
            _ => Err("invalid_auth"),
        });
    }
    if bearer.is_some_and(|t| t.starts_with("xapp-")) {
        // An app-level token works only for apps.connections.open.
        return slack_json(Err("not_allowed_token_type"));
    }
    if bearer != Some(s.config.bot_token.as_str()) {
        return slack_json(Err("invalid_auth"));
    }
    if let Some(secs) = s.limits.check(method) {
        return too_many(secs);
    }
    if let Some(err) = s.take_failure(method) {
        return Json(json!({"ok": false, "error": err})).into_response();
    }
    let result = match method {
        "chat.postMessage" => post_message(&mut s, p),
        "chat.update" => update(&mut s, p),
        "chat.postEphemeral" => post_ephemeral(&mut s, p),
        "users.info" => users_info(&s, p),
        "files.getUploadURLExternal" => super::uploads::get_upload_url(&mut s, p),
        "files.completeUploadExternal" => super::uploads::complete(&mut s, p),
        "files.info" => super::intake::files_info(&s, p),
        "views.open" => super::intake::views_open(&mut s, p),
        "auth.test" => Ok(json!({
            "url": "https://sim.slack.com/",
            "team": "Sim",
            "user": "okta-reset",
            "team_id": s.config.team_id,
            "user_id": s.config.bot_user_id,
            "bot_id": SIM_BOT_ID,
        })),
        "conversations.info" => conversations_info(&s, p),
        "usergroups.users.list" => usergroup_users(&s, p),
        "users.lookupByEmail" => super::dm::lookup_by_email(&s, p),
        "conversations.open" => super::dm::open(&s, p),
        _ => Err("unknown_method"),
    };
    slack_json(result)
}

/// HTTP 429 with `Retry-After`, as Slack answers a method over its limit.
fn too_many(secs: u64) -> Response {
    let mut r = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({"ok": false, "error": "ratelimited"})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

/// HTTP 200 with `{"ok":true,…}` or `{"ok":false,"error":…}`.
fn slack_json(result: Result<Value, SlackErr>) -> Response {
    let body = match result {
        Ok(Value::Object(mut m)) => {
            m.insert("ok".into(), Value::Bool(true));
            Value::Object(m)
        }
        Ok(_) => json!({"ok": true}),
        Err(e) => json!({"ok": false, "error": e}),
    };
    Json(body).into_response()
}

fn post_message(s: &mut State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let channel = param(p, "channel").ok_or("channel_not_found")?;
    let text = param(p, "text");
    let blocks = blocks_param(p)?;
    if text.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    let user = s.config.bot_user_id.clone();
    let thread_ts = param(p, "thread_ts");
    let i = s.post_message(
        &channel,
        &user,
        text.unwrap_or_default(),
        blocks.unwrap_or(Value::Null),
        thread_ts.as_deref(),
    )?;
    let m = &s.messages[i];
    Ok(json!({"channel": m.channel, "ts": m.ts, "message": message_json(m, SIM_BOT_ID)}))
}

fn update(s: &mut State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let channel = param(p, "channel").ok_or("channel_not_found")?;
    let ts = param(p, "ts").ok_or("message_not_found")?;
    let text = param(p, "text");
    let blocks = blocks_param(p)?;
    if text.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    let i = s.update_message(&channel, &ts, text, blocks)?;
    let m = &s.messages[i];
    let mut out = json!({
        "channel": m.channel,
        "ts": m.ts,
        "text": m.text,
        "message": message_json(m, SIM_BOT_ID),
    });
    if let Some(t) = &m.thread_ts {
        out["thread_ts"] = json!(t);
    }
    Ok(out)
}

fn post_ephemeral(s: &mut State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let channel = param(p, "channel").ok_or("channel_not_found")?;
    let user = param(p, "user").ok_or("user_not_in_channel")?;
    let text = param(p, "text");
    let blocks = blocks_param(p)?;
    if text.is_none() && blocks.is_none() {
        return Err("no_text");
    }
    let i = s.post_ephemeral(
        &channel,
        &user,
        text.unwrap_or_default(),
        blocks.unwrap_or(Value::Null),
        param(p, "thread_ts"),
        false,
    )?;
    Ok(json!({"message_ts": s.ephemerals[i].message_ts}))
}

fn users_info(s: &State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let id = param(p, "user").ok_or("user_not_found")?;
    let user = s.user(&id).ok_or("user_not_found")?;
    Ok(json!({"user": user.to_json()}))
}

/// The id of the direct-message channel between the bot and `user` (`D` ids of this shape are the
/// bot's DMs; any other `D…` is a DM between people, which the bot cannot see).
pub fn bot_dm(user: &str) -> String {
    format!("DB{user}")
}

/// A channel as the bot sees it: `is_member` is false for `channels_without_bot`. A DM is
/// visible (`is_im`, with the other person in `user`) only if the bot is in it (`bot_dm`):
/// Slack answers `channel_not_found` for anyone else's.
fn conversations_info(s: &State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let id = param(p, "channel").ok_or("channel_not_found")?;
    if let Some(user) = id.strip_prefix("DB").filter(|u| s.user(u).is_some()) {
        return Ok(json!({"channel": {
            "id": id, "created": 1_600_000_000, "is_im": true, "user": user,
            "is_user_deleted": false,
        }}));
    }
    if !(id.starts_with('C') || id.starts_with('G')) {
        return Err("channel_not_found");
    }
    let member = !s.config.channels_without_bot.contains(&id);
    Ok(json!({"channel": {
        "id": id, "name": format!("ch-{}", id.to_ascii_lowercase()), "created": 1_600_000_000,
        "is_channel": true, "is_private": id.starts_with('G'), "is_member": member,
    }}))
}

/// `usergroups.users.list`: the members' ids; `no_such_subteam` for an unknown group.
fn usergroup_users(s: &State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let id = param(p, "usergroup").ok_or("invalid_arguments")?;
    let (_, members) = s
        .config
        .usergroups
        .iter()
        .find(|(g, _)| *g == id)
        .ok_or("no_such_subteam")?;
    Ok(json!({ "users": members }))
}
