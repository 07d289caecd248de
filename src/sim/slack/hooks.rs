//! `response_url` hooks. The driver hands out URLs on the sim that encode where the request came
//! from, so a POST there can land in the right channel for the right user:
//!
//! - `/hooks/commands/{team}/{channel}/{user}/{nonce}` (slash commands)
//! - `/hooks/actions/{team}/{channel}/{user}/{message_ts}/{nonce}` (button clicks)
//!
//! The JSON body is handled as Slack does: `response_type: "in_channel"` posts a channel message as
//! the bot; `replace_original: true` (action hooks) edits the clicked message; `delete_original`
//! is recorded only; anything else is an ephemeral for the user (`via_response_url: true`).
//! Every POST is also kept raw in [`SimHookPost`]. Answers `200 ok` like Slack.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::record::{SimHookPost, State};
use super::server::{blocks_param, param};

/// Where a hook URL points.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    channel: String,
    user: String,
    message_ts: Option<String>,
}

fn parse_path(path: &str) -> Option<Target> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["hooks", "commands", _team, channel, user, _nonce] => Some(Target {
            channel: channel.to_string(),
            user: user.to_string(),
            message_ts: None,
        }),
        ["hooks", "actions", _team, channel, user, ts, _nonce] => Some(Target {
            channel: channel.to_string(),
            user: user.to_string(),
            message_ts: Some(ts.to_string()),
        }),
        _ => None,
    }
}

pub(crate) fn handle(s: &mut State, path: &str, body: &[u8]) -> Response {
    *s.calls.entry("response_url".to_string()).or_insert(0) += 1;
    let Some(target) = parse_path(path) else {
        return (StatusCode::NOT_FOUND, "no_such_hook").into_response();
    };
    let p: Map<String, Value> = match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => m,
        _ => return (StatusCode::BAD_REQUEST, "invalid_payload").into_response(),
    };
    s.hook_posts.push(SimHookPost {
        path: path.to_string(),
        body: Value::Object(p.clone()),
    });
    match apply(s, &target, &p) {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err((status, err)) => (status, err).into_response(),
    }
}

fn flag(p: &Map<String, Value>, key: &str) -> bool {
    matches!(p.get(key), Some(Value::Bool(true)))
        || matches!(p.get(key), Some(Value::String(s)) if s == "true")
}

fn apply(
    s: &mut State,
    t: &Target,
    p: &Map<String, Value>,
) -> Result<(), (StatusCode, &'static str)> {
    let bad = |e| (StatusCode::BAD_REQUEST, e);
    if flag(p, "delete_original") {
        return Ok(());
    }
    let text = param(p, "text");
    let blocks = blocks_param(p).map_err(bad)?;
    if text.is_none() && blocks.is_none() {
        return Err(bad("no_text"));
    }
    if flag(p, "replace_original") {
        if let Some(ts) = &t.message_ts {
            return s
                .update_message(&t.channel, ts, text, blocks)
                .map(|_| ())
                .map_err(|e| (StatusCode::NOT_FOUND, e));
        }
    }
    let (text, blocks) = (text.unwrap_or_default(), blocks.unwrap_or(Value::Null));
    if param(p, "response_type").as_deref() == Some("in_channel") {
        let bot = s.config.bot_user_id.clone();
        s.post_message(&t.channel, &bot, text, blocks, None)
            .map_err(bad)?;
    } else {
        s.post_ephemeral(&t.channel, &t.user, text, blocks, None, true)
            .map_err(bad)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_paths_name_channel_user_and_clicked_message() {
        assert_eq!(
            parse_path("/hooks/commands/T0001/C1/U0001/7"),
            Some(Target {
                channel: "C1".into(),
                user: "U0001".into(),
                message_ts: None
            })
        );
        assert_eq!(
            parse_path("/hooks/actions/T0001/C1/U0002/1700000000.000100/8"),
            Some(Target {
                channel: "C1".into(),
                user: "U0002".into(),
                message_ts: Some("1700000000.000100".into())
            })
        );
        assert_eq!(parse_path("/hooks/commands/T0001/C1"), None);
    }
}
