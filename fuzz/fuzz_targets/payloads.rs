//! Slack payload decoding, as `slack/inbound.rs` does it after the signature check: slash-command
//! forms, interaction payloads (button clicks and view submissions) and Events API bodies. The
//! first byte picks the route so one corpus covers all three.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use okta_reset::domain::command;
use okta_reset::domain::ids::{SlackChannelId, SlackTeamId, SlackUserId};
use okta_reset::slack::{events, inbound, modal};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    match route % 3 {
        0 => slash(body),
        1 => interaction(body),
        _ => event(body),
    }
});

fn slash(body: &[u8]) {
    let Ok(form) = serde_urlencoded::from_bytes::<HashMap<String, String>>(body) else {
        return;
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let _ = SlackTeamId::parse(field("team_id"));
    let _ = SlackChannelId::parse(field("channel_id"));
    let _ = SlackUserId::parse(field("user_id"));
    let _ = command::parse(field("text"));
}

fn interaction(body: &[u8]) {
    let Ok(form) = serde_urlencoded::from_bytes::<HashMap<String, String>>(body) else {
        return;
    };
    let Some(Ok(p)) = form
        .get("payload")
        .map(|s| serde_json::from_str::<Value>(s))
    else {
        return;
    };
    if let Some(sub) = modal::parse_submission(&p) {
        let _ = modal::to_request(&sub);
    }
    let _ = inbound::handle::parse_block_action(&p);
}

fn event(body: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    if let events::Envelope::Callback(cb) = events::parse(&v) {
        let _ = events::triage(&cb.event, "UBOT");
    }
}
