//! What the bot does with each kind of inbound payload, whichever way it arrived: over HTTP
//! (`inbound.rs`, after the signature check) or over a Socket Mode WebSocket (`socket.rs`). Each
//! returns the acknowledgement's content; the transports only wrap it.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::domain::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};
use crate::service::{Action, DecisionKind, Service, SlashCommand};
use crate::slack::events::{self, Envelope};
use crate::slack::modal;
use crate::slack::render::{APPROVE, CONTINUE, DENY};
use crate::slack::render_notice::UNEXPECTED;

/// The content of an acknowledgement.
#[derive(Debug, Clone, PartialEq)]
pub enum Ack {
    /// Nothing to say (HTTP 200 with an empty body; an envelope ack without payload).
    Empty,
    /// A JSON answer: an ephemeral text, form errors, a URL-verification challenge.
    Json(Value),
    /// The payload was not one Slack sends (HTTP 400; logged and acked over a socket).
    Malformed(&'static str),
}

fn ephemeral(text: impl Into<String>) -> Ack {
    Ack::Json(json!({"response_type": "ephemeral", "text": text.into()}))
}

/// A slash command's fields: a form over HTTP, a JSON object over a socket.
#[derive(Deserialize)]
pub struct SlashForm {
    team_id: String,
    channel_id: String,
    user_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trigger_id: String,
}

/// `/okta-reset …`: answered within Slack's 3 s with what is known by then; the rest goes on
/// in the background.
pub async fn slash(svc: &Arc<Service>, form: SlashForm) -> Ack {
    let (Ok(team), Ok(channel), Ok(user)) = (
        SlackTeamId::parse(&form.team_id),
        SlackChannelId::parse(&form.channel_id),
        SlackUserId::parse(&form.user_id),
    ) else {
        return ephemeral("This request did not carry valid Slack IDs and was ignored.");
    };
    let cmd = SlashCommand {
        team,
        channel,
        user,
        text: form.text,
        trigger_id: form.trigger_id,
    };
    let svc = svc.clone();
    let work = tokio::spawn(async move { svc.on_slash(cmd).await }.in_current_span());
    match tokio::time::timeout(Duration::from_millis(2500), work).await {
        // The form opened: Slack shows it, and nothing else is said.
        Ok(Ok(text)) if text.is_empty() => Ack::Empty,
        Ok(Ok(text)) => ephemeral(text),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "slash command handler failed");
            ephemeral("Something went wrong on the bot's side; nothing was changed.")
        }
        Err(_) => ephemeral("Still working on it; the answer will follow here."),
    }
}

/// A button click or the request form's submission (the payload's JSON).
pub async fn interaction(svc: &Arc<Service>, p: &Value) -> Ack {
    if p.get("type").and_then(Value::as_str) == Some("view_submission") {
        return view_submission(svc, p).await;
    }
    match parse_block_action(p) {
        Some(action) => {
            let svc = svc.clone();
            tokio::spawn(async move { svc.on_action(action).await }.in_current_span());
        }
        None => tracing::debug!("ignored an interaction that is not one of our buttons"),
    }
    Ack::Empty
}

/// Parsed by hand: slack-morphism 2.31.1 rejects `team: null` (org-wide installs). Public for
/// the fuzz target.
pub fn parse_block_action(p: &Value) -> Option<Action> {
    if p.get("type")?.as_str()? != "block_actions" {
        return None;
    }
    let action = p.get("actions")?.as_array()?.first()?;
    let decision = match action.get("action_id")?.as_str()? {
        APPROVE => DecisionKind::Approve,
        DENY => DecisionKind::Deny,
        CONTINUE => DecisionKind::Continue,
        UNEXPECTED => DecisionKind::Unexpected,
        _ => return None,
    };
    let team = match p.get("team") {
        Some(Value::Object(t)) => Some(SlackTeamId::parse(t.get("id")?.as_str()?).ok()?),
        _ => None,
    };
    let channel = p
        .pointer("/container/channel_id")
        .or_else(|| p.pointer("/channel/id"))?
        .as_str()?;
    Some(Action {
        team,
        user: SlackUserId::parse(p.pointer("/user/id")?.as_str()?).ok()?,
        channel: SlackChannelId::parse(channel).ok()?,
        decision,
        request: RequestId::parse(action.get("value")?.as_str()?).ok()?,
        message_ts: p
            .pointer("/container/message_ts")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// The request form's submission. Errors go back into the form while Slack waits (about 3 s);
/// an answer that takes longer (a slow download) closes the form and follows as a message.
async fn view_submission(svc: &Arc<Service>, p: &Value) -> Ack {
    let Some(sub) = modal::parse_submission(p) else {
        tracing::debug!("ignored a view submission that is not our form");
        return Ack::Empty;
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let svc = svc.clone();
    tokio::spawn(async move { svc.on_form(sub, tx).await }.in_current_span());
    match tokio::time::timeout(Duration::from_millis(2500), rx).await {
        Ok(Ok(Err(errors))) => Ack::Json(modal::errors_response(&errors)),
        _ => Ack::Empty,
    }
}

/// Events API: answered at once; the work (deduplication in the store first) goes on in the
/// background, so Slack never waits past its 3 s. `retry` is Slack's retry count, if any.
pub fn event(svc: &Arc<Service>, v: &Value, retry: Option<u32>) -> Ack {
    match events::parse(v) {
        Envelope::UrlVerification { challenge } => Ack::Json(json!({ "challenge": challenge })),
        Envelope::Callback(cb) => {
            let svc = svc.clone();
            tokio::spawn(async move { svc.on_event(*cb, retry).await }.in_current_span());
            Ack::Empty
        }
        Envelope::Other => Ack::Empty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_actions_parse_with_and_without_a_team() {
        let mut p = json!({
            "type": "block_actions",
            "user": {"id": "U0002"},
            "team": {"id": "T0001"},
            "container": {"type": "message", "message_ts": "1.2", "channel_id": "C0001"},
            "actions": [{"action_id": "approve", "value": "R-ABCDEFGH"}]
        });
        let a = parse_block_action(&p).unwrap();
        assert_eq!(a.team.unwrap().as_str(), "T0001");
        assert_eq!(a.decision, DecisionKind::Approve);
        assert_eq!(a.request.as_str(), "R-ABCDEFGH");
        p["actions"][0]["action_id"] = json!("continue");
        assert_eq!(
            parse_block_action(&p).unwrap().decision,
            DecisionKind::Continue
        );
        p["actions"][0]["action_id"] = json!("reset_unexpected");
        p["container"]["channel_id"] = json!("DBU0005");
        let a = parse_block_action(&p).unwrap();
        assert_eq!(a.decision, DecisionKind::Unexpected);
        assert_eq!(a.channel.as_str(), "DBU0005");
        p["team"] = Value::Null;
        assert!(parse_block_action(&p).unwrap().team.is_none());
        p["actions"][0]["action_id"] = json!("something_else");
        assert!(parse_block_action(&p).is_none());
    }
}
