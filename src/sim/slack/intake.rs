//! Files people share and the modals the bot opens: `files.info`, private file downloads
//! (`url_private_download`, bearer token checked), `views.open` with single-use, 3-second
//! `trigger_id`s handed out by the driver.
//!
//! Like Slack, a download without the bot's token does not fail with an HTTP error: it answers
//! 200 with the sign-in web page. A file can be served without a length (`streamed`), and the
//! sim counts the bytes it actually sent, so a test can see that the bot stopped reading.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::record::{SlackErr, State};
use super::server::param;

/// How long a `trigger_id` stays valid (Slack: 3 s).
pub const TRIGGER_TTL: Duration = Duration::from_secs(3);

/// A file someone uploaded to the workspace.
#[derive(Debug, Clone)]
pub struct SimFile {
    pub id: String,
    pub name: String,
    pub filetype: String,
    pub mimetype: String,
    /// Who uploaded it.
    pub user: String,
    pub bytes: Bytes,
    /// Served without a Content-Length, in 64 KiB chunks.
    pub streamed: bool,
    /// Bytes the sim has sent of it, over all downloads.
    pub served: Arc<AtomicUsize>,
    /// `http://127.0.0.1:PORT/files-pri/TEAM-ID` (the sim's own address).
    pub url_base: String,
    pub team_id: String,
}

impl SimFile {
    pub fn url_private_download(&self) -> String {
        format!("{}/download/{}", self.url_base, self.encoded_name())
    }

    /// The name as a URL path segment (Slack percent-encodes names in file URLs).
    fn encoded_name(&self) -> String {
        let mut u = url::Url::parse("http://sim/").expect("a valid URL");
        u.path_segments_mut()
            .expect("an http URL has a path")
            .push(&self.name);
        u.path()[1..].to_string()
    }

    pub fn served_bytes(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }

    /// The file object as Slack puts it in `files.info`, events and `file_input` values.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "created": 1_700_000_000,
            "timestamp": 1_700_000_000,
            "name": self.name,
            "title": self.name,
            "mimetype": self.mimetype,
            "filetype": self.filetype,
            "pretty_type": self.filetype.to_uppercase(),
            "user": self.user,
            "user_team": self.team_id,
            "editable": false,
            "size": self.bytes.len(),
            "mode": "hosted",
            "is_external": false,
            "external_type": "",
            "is_public": false,
            "public_url_shared": false,
            "display_as_bot": false,
            "username": "",
            "url_private": format!("{}/{}", self.url_base, self.encoded_name()),
            "url_private_download": self.url_private_download(),
            "permalink": format!("https://sim.slack.com/files/{}/{}/{}", self.user, self.id, self.name),
            "is_starred": false,
            "has_rich_preview": false,
        })
    }
}

/// Slack's `filetype` and `mimetype` for a file name.
pub fn file_kind(name: &str) -> (&'static str, &'static str) {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" => ("csv", "text/csv"),
        "txt" => ("text", "text/plain"),
        "xlsx" => (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "xls" => ("xls", "application/vnd.ms-excel"),
        "png" => ("png", "image/png"),
        "jpg" | "jpeg" => ("jpg", "image/jpeg"),
        "pdf" => ("pdf", "application/pdf"),
        _ => ("binary", "application/octet-stream"),
    }
}

/// A modal the bot opened.
#[derive(Debug, Clone, PartialEq)]
pub struct SimView {
    pub id: String,
    /// Who the trigger belonged to: the person who sees the modal.
    pub user: String,
    pub view: Value,
}

#[derive(Debug)]
struct Trigger {
    user: String,
    issued: Instant,
    used: bool,
}

#[derive(Debug, Default)]
pub(crate) struct IntakeState {
    pub files: Vec<SimFile>,
    pub views: Vec<SimView>,
    triggers: HashMap<String, Trigger>,
    /// How long each download's body is held back (a slow file host).
    download_delay: Duration,
}

impl IntakeState {
    pub fn issue_trigger(&mut self, trigger_id: &str, user: &str) {
        self.triggers.insert(
            trigger_id.to_string(),
            Trigger {
                user: user.to_string(),
                issued: Instant::now(),
                used: false,
            },
        );
    }
}

/// `files.info`.
pub(crate) fn files_info(s: &State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let id = param(p, "file").ok_or("file_not_found")?;
    let f = s
        .intake
        .files
        .iter()
        .find(|f| f.id == id)
        .ok_or("file_not_found")?;
    Ok(json!({"file": f.to_json(), "comments": [], "response_metadata": {"next_cursor": ""}}))
}

/// `views.open`: the trigger must be one the driver handed out, unused and under 3 s old.
pub(crate) fn views_open(s: &mut State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let trigger_id = param(p, "trigger_id").ok_or("invalid_trigger_id")?;
    let view = match p.get("view") {
        Some(Value::Object(v)) => Value::Object(v.clone()),
        Some(Value::String(v)) => serde_json::from_str(v).map_err(|_| "invalid_arguments")?,
        _ => return Err("invalid_arguments"),
    };
    if view.get("type").and_then(Value::as_str) != Some("modal") || !view["blocks"].is_array() {
        return Err("invalid_arguments");
    }
    let t = s
        .intake
        .triggers
        .get_mut(&trigger_id)
        .ok_or("invalid_trigger_id")?;
    if t.used || t.issued.elapsed() > TRIGGER_TTL {
        return Err("expired_trigger_id");
    }
    t.used = true;
    let user = t.user.clone();
    let id = format!("V{:010}", s.intake.views.len() + 1);
    let mut shown = view.clone();
    shown["id"] = json!(id);
    shown["team_id"] = json!(s.config.team_id);
    shown["state"] = json!({"values": {}});
    shown["hash"] = json!(format!("1700000000.{id}"));
    s.intake.views.push(SimView { id, user, view });
    Ok(json!({ "view": shown }))
}

/// `GET /files-pri/{team}-{id}/download/{name}`.
pub(crate) fn download(s: &mut State, path: &str, headers: &HeaderMap) -> Response {
    *s.calls.entry("files.download".to_string()).or_insert(0) += 1;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(s.config.bot_token.as_str()) {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body>Sign in to your workspace</body></html>",
        )
            .into_response();
    }
    let Some(f) = s
        .intake
        .files
        .iter()
        .find(|f| path == format!("{}/download/{}", url_path(&f.url_base), f.encoded_name()))
    else {
        return (StatusCode::NOT_FOUND, "file not found").into_response();
    };
    let ctype = HeaderValue::from_str(&f.mimetype)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let delay = s.intake.download_delay;
    if !delay.is_zero() {
        let (bytes, served) = (f.bytes.clone(), f.served.clone());
        let body = futures::stream::once(async move {
            tokio::time::sleep(delay).await;
            served.fetch_add(bytes.len(), Ordering::SeqCst);
            Ok::<_, std::io::Error>(bytes)
        });
        let mut r = Response::new(Body::from_stream(body));
        r.headers_mut().insert(header::CONTENT_TYPE, ctype);
        return r;
    }
    if !f.streamed {
        f.served.fetch_add(f.bytes.len(), Ordering::SeqCst);
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, ctype)],
            f.bytes.clone(),
        )
            .into_response();
    }
    let (bytes, served) = (f.bytes.clone(), f.served.clone());
    let chunks = (0..bytes.len()).step_by(64 * 1024).map(move |at| {
        let chunk = bytes.slice(at..(at + 64 * 1024).min(bytes.len()));
        served.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk)
    });
    let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    r.headers_mut().insert(header::CONTENT_TYPE, ctype);
    r
}

fn url_path(url_base: &str) -> &str {
    url_base
        .find("/files-pri/")
        .map_or(url_base, |at| &url_base[at..])
}

impl super::SlackSim {
    /// `user` uploads `name` with these contents; Slack's filetype and mimetype follow the name.
    pub fn add_file(&self, user: &str, name: &str, bytes: impl Into<Bytes>) -> SimFile {
        let (filetype, mimetype) = file_kind(name);
        self.add_file_as(user, name, filetype, mimetype, bytes.into(), false)
    }

    /// Like [`Self::add_file`], with Slack's metadata given and, if `streamed`, no length.
    pub fn add_file_as(
        &self,
        user: &str,
        name: &str,
        filetype: &str,
        mimetype: &str,
        bytes: Bytes,
        streamed: bool,
    ) -> SimFile {
        let base = self.base_url();
        let mut s = self.lock();
        let id = format!("F{:010}", s.intake.files.len() + 1);
        let team = s.config.team_id.clone();
        let f = SimFile {
            url_base: format!("{base}/files-pri/{team}-{id}"),
            id,
            name: name.to_string(),
            filetype: filetype.to_string(),
            mimetype: mimetype.to_string(),
            user: user.to_string(),
            bytes,
            streamed,
            served: Arc::new(AtomicUsize::new(0)),
            team_id: team,
        };
        s.intake.files.push(f.clone());
        f
    }

    /// Modals opened with `views.open`, in order.
    pub fn views(&self) -> Vec<SimView> {
        self.lock().intake.views.clone()
    }

    /// Makes `trigger_id` valid for `user` for the next 3 s (the driver does this for each slash
    /// command it sends).
    pub fn issue_trigger(&self, trigger_id: &str, user: &str) {
        self.lock().intake.issue_trigger(trigger_id, user);
    }

    /// Holds back the body of every later download by `delay` (a slow file host).
    pub fn delay_downloads(&self, delay: Duration) {
        self.lock().intake.download_delay = delay;
    }

    /// A fresh message ts, as Slack gives a person's message.
    pub fn next_ts(&self) -> String {
        self.lock().next_ts()
    }
}
