//! The simulated workspace's side of `policy.notify_users`: `users.lookupByEmail` (Slack finds
//! deactivated users too, with `deleted: true`; `users_not_found` for an email nobody has) and
//! `conversations.open` (`user_disabled` for a deactivated user). The DM itself is a
//! `chat.postMessage` to the channel this returns, recorded like any other message.

use serde_json::{json, Map, Value};

use super::record::{SlackErr, State};
use super::server::{bot_dm, param};

pub(super) fn lookup_by_email(s: &State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let email = param(p, "email").ok_or("invalid_email")?;
    if !email.contains('@') {
        return Err("invalid_email");
    }
    // Slack compares emails case-insensitively.
    let user = s
        .config
        .users
        .iter()
        .find(|u| u.email.eq_ignore_ascii_case(&email))
        .ok_or("users_not_found")?;
    Ok(json!({"user": user.to_json()}))
}

/// `users` is a comma-separated string in Slack's documentation; slack-morphism sends a JSON
/// array. One user opens the bot's 1:1 DM with them.
pub(super) fn open(s: &State, p: &Map<String, Value>) -> Result<Value, SlackErr> {
    let users: Vec<String> = match p.get("users") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => param(p, "users")
            .map(|s| s.split(',').map(|u| u.trim().to_string()).collect())
            .unwrap_or_default(),
    };
    let [user] = users.as_slice() else {
        // The bot only ever opens 1:1 DMs; anything else is a bug on its side.
        return Err(if users.is_empty() {
            "users_list_not_supplied"
        } else {
            "not_enough_users"
        });
    };
    let u = s.user(user).ok_or("user_not_found")?;
    if u.deleted {
        return Err("user_disabled");
    }
    Ok(json!({"channel": {"id": bot_dm(user)}}))
}
