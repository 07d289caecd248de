//! Slack's external file upload flow, as the sim serves it:
//!
//! 1. `files.getUploadURLExternal` (`filename`, `length`; bearer-checked like every API method)
//!    answers a `file_id` and an `upload_url` on the sim: `/upload/v1/{secret}`.
//! 2. A POST of the bytes to that URL answers `200 OK - {n}` in plain text, as Slack's upload host
//!    does. Like Slack's, the URL itself is the credential: no token is required there.
//! 3. `files.completeUploadExternal` (`files: [{id, title}]`, `channel_id`, `thread_ts`,
//!    `initial_comment`) shares the files: a message from the bot appears in the channel (or the
//!    thread) with the comment as its text, and each file records that message's ts.
//!
//! A file whose bytes never arrived, or whose byte count differs from the `length` announced, is
//! refused at completion with `file_not_found` (Slack does not document which error it uses; the
//! bot only needs to see a refusal). `SlackSim::fail_next` works for both API methods and
//! `SlackSim::fail_next_upload_posts` makes the byte POSTs answer HTTP 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::record::{SlackErr, State};
use super::server::param;

/// One file as the sim holds it, from `getUploadURLExternal` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUpload {
    pub file_id: String,
    pub filename: String,
    /// The `length` announced to `files.getUploadURLExternal`.
    pub length: usize,
    /// The bytes POSTed to the upload URL (`None` until they arrive).
    pub content: Option<Vec<u8>>,
    pub title: Option<String>,
    pub channel: Option<String>,
    /// The thread it was shared into (the root's ts).
    pub thread_ts: Option<String>,
    pub initial_comment: Option<String>,
    /// The message that shares it, once `files.completeUploadExternal` succeeded with a channel.
    pub message_ts: Option<String>,
    pub completed: bool,
    pub(crate) secret: String,
}

impl SimUpload {
    /// The content as text (lossy), or empty if nothing arrived.
    pub fn text(&self) -> String {
        self.content
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }
}

#[derive(Debug, Default)]
pub(crate) struct Uploads {
    /// `http://127.0.0.1:PORT`, set when the server is bound.
    pub base_url: String,
    pub files: Vec<SimUpload>,
    /// Byte POSTs left to answer with HTTP 500.
    pub failing_posts: usize,
}

/// `files.getUploadURLExternal`.
pub(crate) fn get_upload_url(s: &mut State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let filename = param(p, "filename").ok_or("missing_argument")?;
    let length: usize = param(p, "length")
        .ok_or("missing_argument")?
        .parse()
        .map_err(|_| "invalid_arguments")?;
    if length == 0 {
        return Err("missing_argument");
    }
    let n = s.uploads.files.len() + 1;
    let file_id = format!("F{n:08}");
    let secret = format!("{:016x}", rand::random::<u64>());
    let upload_url = format!("{}/upload/v1/{secret}", s.uploads.base_url);
    s.uploads.files.push(SimUpload {
        file_id: file_id.clone(),
        filename,
        length,
        content: None,
        title: None,
        channel: None,
        thread_ts: None,
        initial_comment: None,
        message_ts: None,
        completed: false,
        secret,
    });
    Ok(json!({"upload_url": upload_url, "file_id": file_id}))
}

/// A POST of the bytes to `/upload/v1/{secret}`.
pub(crate) fn receive(s: &mut State, path: &str, body: &[u8]) -> Response {
    *s.calls.entry("upload".to_string()).or_insert(0) += 1;
    if s.uploads.failing_posts > 0 {
        s.uploads.failing_posts -= 1;
        return (StatusCode::INTERNAL_SERVER_ERROR, "upload failed").into_response();
    }
    let secret = path.trim_start_matches("/upload/v1/");
    let Some(f) = s
        .uploads
        .files
        .iter_mut()
        .find(|f| f.secret == secret && !f.completed)
    else {
        return (StatusCode::NOT_FOUND, "no such upload").into_response();
    };
    f.content = Some(body.to_vec());
    (StatusCode::OK, format!("OK - {}", body.len())).into_response()
}

/// `files` given as a JSON array (JSON bodies) or as a JSON string (forms).
fn files_param(p: &Map<String, Value>) -> Result<Vec<(String, Option<String>)>, SlackErr> {
    let list = match p.get("files") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            _ => return Err("invalid_arguments"),
        },
        _ => return Err("missing_argument"),
    };
    if list.is_empty() {
        return Err("missing_argument");
    }
    list.iter()
        .map(|f| {
            let id = f
                .get("id")
                .and_then(Value::as_str)
                .ok_or("invalid_arguments")?;
            let title = f.get("title").and_then(Value::as_str).map(str::to_string);
            Ok((id.to_string(), title))
        })
        .collect()
}

/// `files.completeUploadExternal`.
pub(crate) fn complete(s: &mut State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let wanted = files_param(p)?;
    let mut indexes = Vec::new();
    for (id, _) in &wanted {
        let i = s
            .uploads
            .files
            .iter()
            .position(|f| &f.file_id == id)
            .ok_or("file_not_found")?;
        let f = &s.uploads.files[i];
        let arrived = f.content.as_ref().is_some_and(|c| c.len() == f.length);
        if f.completed || !arrived {
            return Err("file_not_found");
        }
        indexes.push(i);
    }
    let channel = param(p, "channel_id");
    let thread_ts = param(p, "thread_ts");
    let comment = param(p, "initial_comment");
    let message_ts = match &channel {
        Some(ch) => {
            let bot = s.config.bot_user_id.clone();
            let m = s.post_message(
                ch,
                &bot,
                comment.clone().unwrap_or_default(),
                Value::Null,
                thread_ts.as_deref(),
            )?;
            Some((s.messages[m].ts.clone(), s.messages[m].thread_ts.clone()))
        }
        None => None,
    };
    let (message_ts, thread_ts) = match message_ts {
        Some((ts, root)) => (Some(ts), root),
        None => (None, None),
    };
    let mut out = Vec::new();
    for (i, (_, title)) in indexes.into_iter().zip(wanted) {
        let f = &mut s.uploads.files[i];
        f.title = title;
        f.channel = channel.clone();
        f.thread_ts = thread_ts.clone();
        f.initial_comment = comment.clone();
        f.message_ts = message_ts.clone();
        f.completed = true;
        out.push(json!({
            "id": f.file_id,
            "name": f.filename,
            "title": f.title.clone().unwrap_or_else(|| f.filename.clone()),
            "mimetype": "text/csv",
            "filetype": "csv",
        }));
    }
    Ok(json!({"files": out}))
}
