//! Events API payloads → what the bot should do with them. Pure: the envelope is read from raw
//! JSON, as interactions are — the bot needs a handful of fields, and a strict typed parse of the
//! whole event (blocks, attachments, file objects) would drop it on any shape the crate does not
//! know — then [`triage`] decides, given the bot's own user id.
//!
//! The bot acts on a file shared with a message that mentions it. Slack delivers that message
//! twice — as `app_mention` (with `files`) and as `message` with subtype `file_share` — each with
//! its own `event_id`; both carry the message's `channel` and `ts`, which is what dedupes them.

use serde_json::Value;

use crate::domain::ids::{SlackChannelId, SlackTeamId, SlackUserId};

/// An Events API request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    UrlVerification {
        challenge: String,
    },
    Callback(Box<Callback>),
    /// Anything else (app_rate_limited, unknown types): acknowledged, nothing done.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub event_id: String,
    pub team: Option<SlackTeamId>,
    pub event: MessageEvent,
}

/// The fields of `app_mention` and `message` events the bot looks at; other event types keep
/// only their `kind`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageEvent {
    /// `app_mention`, `message`, …
    pub kind: String,
    pub subtype: Option<String>,
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub edited: bool,
    pub channel: Option<String>,
    pub ts: Option<String>,
    pub text: String,
    /// File ids, in the order shared.
    pub files: Vec<String>,
}

pub fn parse(v: &Value) -> Envelope {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match v.get("type").and_then(Value::as_str) {
        Some("url_verification") => Envelope::UrlVerification {
            challenge: s(v, "challenge").unwrap_or_default(),
        },
        Some("event_callback") => {
            let Some(event_id) = s(v, "event_id") else {
                return Envelope::Other;
            };
            let e = v.get("event").cloned().unwrap_or(Value::Null);
            let files = e
                .get("files")
                .and_then(Value::as_array)
                .map(|fs| fs.iter().filter_map(|f| s(f, "id")).collect())
                .unwrap_or_default();
            Envelope::Callback(Box::new(Callback {
                event_id,
                team: s(v, "team_id").and_then(|t| SlackTeamId::parse(&t).ok()),
                event: MessageEvent {
                    kind: s(&e, "type").unwrap_or_default(),
                    subtype: s(&e, "subtype"),
                    user: s(&e, "user"),
                    bot_id: s(&e, "bot_id"),
                    edited: e.get("edited").is_some_and(|x| !x.is_null()),
                    channel: s(&e, "channel"),
                    ts: s(&e, "ts"),
                    text: s(&e, "text").unwrap_or_default(),
                    files,
                },
            }))
        }
        _ => Envelope::Other,
    }
}

/// A message that shared files and mentioned the bot: a request to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub channel: SlackChannelId,
    pub user: SlackUserId,
    /// The message's ts: with the channel, the key that dedupes the two deliveries.
    pub ts: String,
    /// The message text without the mention(s) of the bot, as Slack sent it (escaped).
    pub text: String,
    pub files: Vec<String>,
}

impl Upload {
    pub fn dedupe_key(&self) -> String {
        format!("message:{}:{}", self.channel, self.ts)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    Upload(Upload),
    /// Mentioned the bot with no file: the person gets a hint.
    MentionWithoutFile {
        channel: SlackChannelId,
        user: SlackUserId,
    },
    /// Not for the bot; the reason is logged.
    Ignore(&'static str),
}

/// What to do with a message event, given the bot's own Slack user id.
pub fn triage(e: &MessageEvent, bot_user: &str) -> Triage {
    if e.kind != "app_mention" && e.kind != "message" {
        return Triage::Ignore("not a message event");
    }
    if e.bot_id.is_some()
        || e.subtype.as_deref() == Some("bot_message")
        || e.user.as_deref() == Some(bot_user)
    {
        return Triage::Ignore("a bot's message (the bot's own or another's)");
    }
    if e.edited
        || matches!(
            e.subtype.as_deref(),
            Some("message_changed" | "message_deleted")
        )
    {
        return Triage::Ignore("an edit, not a new message");
    }
    // A plain message that mentions the bot also arrives as `app_mention`: act on that one.
    if e.kind == "message" && e.subtype.as_deref() != Some("file_share") {
        return Triage::Ignore("a message without a shared file");
    }
    if e.subtype.is_some() && e.subtype.as_deref() != Some("file_share") {
        return Triage::Ignore("a message subtype the bot does not act on");
    }
    let Some(text) = strip_mentions(&e.text, bot_user) else {
        return Triage::Ignore("does not mention the bot");
    };
    let (Some(Ok(channel)), Some(Ok(user)), Some(ts)) = (
        e.channel.as_deref().map(SlackChannelId::parse),
        e.user.as_deref().map(SlackUserId::parse),
        e.ts.clone(),
    ) else {
        return Triage::Ignore("no valid channel, user or ts");
    };
    if e.files.is_empty() {
        return if e.kind == "app_mention" {
            Triage::MentionWithoutFile { channel, user }
        } else {
            Triage::Ignore("a file share without files")
        };
    }
    Triage::Upload(Upload {
        channel,
        user,
        ts,
        text,
        files: e.files.clone(),
    })
}

/// The text without `<@BOT>` / `<@BOT|name>`, or `None` when it does not mention the bot.
fn strip_mentions(text: &str, bot_user: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut found = false;
    let open = format!("<@{bot_user}");
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        let end = match after.chars().next() {
            Some('>') => Some(0),
            Some('|') => after.find('>'),
            _ => None,
        };
        match end {
            Some(end) => {
                found = true;
                out.push_str(&rest[..at]);
                out.push(' ');
                rest = &after[end + 1..];
            }
            None => {
                // `<@UBOT2>`: someone else whose id starts with ours.
                out.push_str(&rest[..at + open.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    found.then(|| out.trim().to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mention(extra: Value) -> Value {
        let mut e = json!({
            "type": "app_mention", "user": "U0001", "channel": "C0001", "ts": "1700000000.000100",
            "text": "<@UBOT> reason:\"INC-88\" --revoke-sessions",
            "files": [{"id": "F0001", "name": "users.csv"}],
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        json!({"type": "event_callback", "event_id": "Ev1", "team_id": "T0001", "event": e})
    }

    fn triaged(v: Value) -> Triage {
        match parse(&v) {
            Envelope::Callback(c) => triage(&c.event, "UBOT"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn url_verification_and_unknown_envelopes() {
        assert_eq!(
            parse(&json!({"type": "url_verification", "challenge": "abc"})),
            Envelope::UrlVerification {
                challenge: "abc".into()
            }
        );
        assert_eq!(parse(&json!({"type": "app_rate_limited"})), Envelope::Other);
        assert_eq!(parse(&json!({"type": "event_callback"})), Envelope::Other);
    }

    #[test]
    fn a_mention_with_a_file_is_an_upload_without_the_mention() {
        let t = triaged(mention(json!({})));
        let Triage::Upload(u) = t else {
            panic!("{t:?}")
        };
        assert_eq!(u.text, "reason:\"INC-88\" --revoke-sessions");
        assert_eq!(u.files, ["F0001"]);
        assert_eq!(u.dedupe_key(), "message:C0001:1700000000.000100");
    }

    #[test]
    fn a_file_share_message_is_the_same_upload() {
        let t = triaged(mention(
            json!({"type": "message", "subtype": "file_share", "text": "<@UBOT|okta-reset> go"}),
        ));
        let Triage::Upload(u) = t else {
            panic!("{t:?}")
        };
        assert_eq!(u.text, "go");
    }

    #[test]
    fn bots_edits_and_messages_not_for_the_bot_are_ignored() {
        let cases = [
            (json!({"bot_id": "B0001"}), "a bot's message"),
            (json!({"user": "UBOT"}), "a bot's message"),
            (json!({"subtype": "bot_message"}), "a bot's message"),
            (json!({"edited": {"user": "U0001", "ts": "1.1"}}), "an edit"),
            (
                json!({"type": "message", "subtype": "message_changed"}),
                "an edit",
            ),
            (
                json!({"type": "message", "subtype": "file_share", "text": "a file for humans"}),
                "does not mention the bot",
            ),
            (
                json!({"type": "message", "subtype": "file_share", "text": "<@UBOT2> hi"}),
                "does not mention the bot",
            ),
            (
                json!({"type": "message"}),
                "a message without a shared file",
            ),
            (json!({"type": "reaction_added"}), "not a message event"),
            (json!({"channel": "not-a-channel"}), "no valid channel"),
        ];
        for (extra, why) in cases {
            match triaged(mention(extra.clone())) {
                Triage::Ignore(r) => assert!(r.starts_with(why), "{extra}: {r}"),
                t => panic!("{extra}: {t:?}"),
            }
        }
    }

    #[test]
    fn a_mention_without_a_file_gets_a_hint() {
        assert_eq!(
            triaged(mention(json!({"files": []}))),
            Triage::MentionWithoutFile {
                channel: SlackChannelId::parse("C0001").unwrap(),
                user: SlackUserId::parse("U0001").unwrap(),
            }
        );
    }
}
