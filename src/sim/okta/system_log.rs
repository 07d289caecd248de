//! The simulated org's System Log: an event for every reset (`user.account.reset_password`) and
//! every session revocation (`user.session.clear`) the org performed, with the caller's
//! `User-Agent`, served at `GET /api/v1/logs` as Okta's `listLogEvents` does.
//!
//! What is kept of Okta's behaviour: `since`/`until` are ISO 8601 (RFC 3339) times and a bad one
//! is a 400 `E0000001`, as is `since` after `until`, a `limit` outside 0–1000 or a `sortOrder`
//! other than `ASCENDING`/`DESCENDING`; `filter` takes `eventType eq "…"` (joined by `or`) and
//! anything else is a 400 `E0000031`; events reach the log `lag` after they happen (Okta's log
//! lags); a bounded request (`until` given) has a `next` link only while more events remain,
//! and a polling request (no `until`) always has one, as the spec says.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::render::{bad_search_because, error, iso, json_response, random_id};
use super::Shared;

/// The event Okta writes for an admin-initiated password reset.
pub const RESET_EVENT: &str = "user.account.reset_password";
/// The event Okta writes when a user's sessions are cleared.
pub const SESSION_CLEAR_EVENT: &str = "user.session.clear";

/// One System Log event as the sim keeps it.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub uuid: String,
    pub published: SystemTime,
    pub event_type: String,
    pub target_id: String,
    pub user_agent: Option<String>,
    /// When the event shows in the log: Okta's System Log lags behind what happened.
    pub visible_at: SystemTime,
}

impl LogEntry {
    /// An event that happened now and shows in the log after `lag`.
    pub fn new(
        event_type: &str,
        target_id: &str,
        user_agent: Option<String>,
        lag: Duration,
    ) -> Self {
        let now = SystemTime::now();
        Self {
            uuid: random_id(24),
            published: now,
            event_type: event_type.to_string(),
            target_id: target_id.to_string(),
            user_agent,
            visible_at: now + lag,
        }
    }

    fn json(&self) -> Value {
        json!({
            "uuid": self.uuid,
            "published": iso(self.published),
            "eventType": self.event_type,
            "severity": "INFO",
            "displayMessage": "Reset password",
            "outcome": {"result": "SUCCESS"},
            "actor": {"id": "00usimadmin", "type": "User"},
            "client": {
                "userAgent": {
                    "rawUserAgent": self.user_agent,
                    "os": "Unknown",
                    "browser": "UNKNOWN"
                },
                "ipAddress": "127.0.0.1"
            },
            "target": [{"id": self.target_id, "type": "User"}]
        })
    }
}

fn ms_of(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn bad_param(name: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "E0000001",
        &format!("Api validation failed: {name}"),
    )
}

/// A time parameter, or the name of the one that is not a time.
fn time_param<'a>(qs: &[(String, String)], name: &'a str) -> Result<Option<i64>, &'a str> {
    match qs.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => {
            use time::format_description::well_known::Rfc3339;
            time::OffsetDateTime::parse(v.trim(), &Rfc3339)
                .ok()
                .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
                .map(Some)
                .ok_or(name)
        }
    }
}

/// `eventType eq "a" or eventType eq "b"`: the event types, or why not.
fn event_types(filter: &str) -> Result<Vec<String>, String> {
    let mut types = Vec::new();
    for part in filter.split(" or ") {
        let p = part.trim();
        let Some(rest) = p.strip_prefix("eventType eq ") else {
            return Err(format!("unsupported filter expression: {p}"));
        };
        let Some(v) = rest
            .trim()
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
        else {
            return Err(format!("the value must be a quoted string: {rest}"));
        };
        if v.contains('"') {
            return Err(format!("bad quoting in {rest}"));
        }
        types.push(v.to_string());
    }
    Ok(types)
}

/// `GET /api/v1/logs`.
pub(super) fn list(sh: &Shared, qs: &[(String, String)]) -> Response {
    let now = SystemTime::now();
    let until = match time_param(qs, "until") {
        Ok(v) => v,
        Err(name) => return bad_param(name),
    };
    let bounded = until.is_some();
    let until_ms = until.unwrap_or_else(|| ms_of(now));
    let since_ms = match time_param(qs, "since") {
        Ok(v) => v.unwrap_or(until_ms - 7 * 24 * 3_600_000),
        Err(name) => return bad_param(name),
    };
    if since_ms > until_ms {
        return bad_param("since");
    }
    let limit = match qs.iter().find(|(k, _)| k == "limit") {
        None => 100,
        Some((_, v)) => match v.trim().parse::<usize>() {
            Ok(n) if n <= 1000 => n,
            _ => return bad_param("limit"),
        },
    };
    let descending = match qs.iter().find(|(k, _)| k == "sortOrder").map(|(_, v)| v) {
        None => false,
        Some(v) if v == "ASCENDING" => false,
        Some(v) if v == "DESCENDING" => true,
        Some(_) => return bad_param("sortOrder"),
    };
    let types = match qs.iter().find(|(k, _)| k == "filter") {
        None => None,
        Some((_, f)) => match event_types(f) {
            Ok(t) => Some(t),
            Err(why) => return bad_search_because(&[why]),
        },
    };
    let after: usize = qs
        .iter()
        .find(|(k, _)| k == "after")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut events: Vec<LogEntry> = sh
        .data()
        .system_log
        .iter()
        // Not yet in the log: Okta's System Log lags behind what happened.
        .filter(|e| e.visible_at <= now)
        .filter(|e| (since_ms..until_ms).contains(&ms_of(e.published)))
        .filter(|e| types.as_ref().is_none_or(|t| t.contains(&e.event_type)))
        .cloned()
        .collect();
    if descending {
        events.reverse();
    }
    let page: Vec<Value> = events
        .iter()
        .skip(after)
        .take(limit)
        .map(LogEntry::json)
        .collect();
    let next = after + page.len();
    let mut resp = json_response(StatusCode::OK, &Value::Array(page));
    if !bounded || next < events.len() {
        let mut url = url::Url::parse(&format!("{}/api/v1/logs", sh.base_url)).expect("base url");
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in qs.iter().filter(|(k, _)| k != "after") {
                q.append_pair(k, v);
            }
            q.append_pair("after", &next.to_string());
        }
        super::routes::add_link_pub(&mut resp, url.as_str(), "next");
    }
    resp
}
