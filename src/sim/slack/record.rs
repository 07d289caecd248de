//! The sim's workspace state: who exists, what was posted, and the faults queued for the next calls.
//!
//! Everything here is plain data behind one mutex in [`super::SlackSim`]; the HTTP layer parses a
//! request into parameters and calls one of the `State` operations, which return either the JSON
//! to answer with or a Slack error code.

use std::collections::HashMap;

use serde_json::{json, Value};

/// A member of the simulated workspace, as `users.info` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSlackUser {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub real_name: String,
    pub email: String,
    pub is_admin: bool,
    pub is_owner: bool,
    pub is_bot: bool,
    pub is_restricted: bool,
    pub is_ultra_restricted: bool,
    pub deleted: bool,
}

impl SimSlackUser {
    /// A full member of `team_id` with no special flags; adjust the fields for admins, guests, etc.
    pub fn member(id: &str, team_id: &str, name: &str, real_name: &str) -> Self {
        SimSlackUser {
            id: id.to_string(),
            team_id: team_id.to_string(),
            name: name.to_string(),
            real_name: real_name.to_string(),
            email: format!("{name}@example.com"),
            is_admin: false,
            is_owner: false,
            is_bot: false,
            is_restricted: false,
            is_ultra_restricted: false,
            deleted: false,
        }
    }

    /// The `user` object of a `users.info` answer (shape slack-morphism's `SlackUser` reads).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_bot": self.is_bot,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "profile": {
                "email": self.email,
                "real_name": self.real_name,
                "display_name": self.name,
            },
        })
    }
}

/// What the sim serves: the bot's token and identity, and the workspace's members.
#[derive(Debug, Clone)]
pub struct SlackSimConfig {
    pub bot_token: String,
    /// Socket Mode's app-level token (`apps.connections.open`).
    pub app_token: String,
    /// Channels the bot is not a member of (`conversations.info` says `is_member: false`).
    pub channels_without_bot: Vec<String>,
    pub team_id: String,
    pub bot_user_id: String,
    pub users: Vec<SimSlackUser>,
    /// User groups: id (`S…`) → member user ids, as `usergroups.users.list` answers.
    pub usergroups: Vec<(String, Vec<String>)>,
}

impl SlackSimConfig {
    /// Team `T0001`: U0001 alice (admin), U0002 bob, U0003 carol, U0004 mallory, the guest
    /// UGUEST1 (`is_restricted`) and the bot UBOT. Everyone's email is `name@example.com`.
    pub fn demo() -> Self {
        let team = "T0001";
        let mut alice = SimSlackUser::member("U0001", team, "alice", "Alice Admin");
        alice.is_admin = true;
        let bob = SimSlackUser::member("U0002", team, "bob", "Bob Builder");
        let carol = SimSlackUser::member("U0003", team, "carol", "Carol Checker");
        let mallory = SimSlackUser::member("U0004", team, "mallory", "Mallory Malicious");
        let mut guest = SimSlackUser::member("UGUEST1", team, "guest", "Gary Guest");
        guest.is_restricted = true;
        let mut bot = SimSlackUser::member("UBOT", team, "okta-reset", "Okta Reset");
        bot.is_bot = true;
        SlackSimConfig {
            bot_token: "xoxb-sim-bot-token".to_string(),
            app_token: "xapp-1-A0001-sim-app-token".to_string(),
            channels_without_bot: Vec::new(),
            team_id: team.to_string(),
            bot_user_id: "UBOT".to_string(),
            users: vec![alice, bob, carol, mallory, guest, bot],
            usergroups: Vec::new(),
        }
    }
}

impl Default for SlackSimConfig {
    fn default() -> Self {
        Self::demo()
    }
}

/// A channel message as it stands now, with its earlier versions.
#[derive(Debug, Clone, PartialEq)]
pub struct SimMessage {
    pub channel: String,
    pub ts: String,
    /// The root's ts for a thread reply; `None` for a root message.
    pub thread_ts: Option<String>,
    /// Who posted it (the bot's user id for `chat.postMessage`).
    pub user: String,
    pub text: String,
    /// The Block Kit array as posted (`Value::Null` when the message had none).
    pub blocks: Value,
    /// Previous versions `(text, blocks)`, oldest first; empty if never edited.
    pub edits: Vec<(String, Value)>,
}

/// A message only one user sees: a `chat.postEphemeral` call, or an ephemeral reply posted to a
/// `response_url` (then `via_response_url` is true).
#[derive(Debug, Clone, PartialEq)]
pub struct SimEphemeral {
    pub channel: String,
    pub user: String,
    pub text: String,
    pub blocks: Value,
    pub thread_ts: Option<String>,
    /// The `message_ts` the sim answered with.
    pub message_ts: String,
    pub via_response_url: bool,
}

/// A POST to a `response_url` the driver handed out, exactly as received.
#[derive(Debug, Clone, PartialEq)]
pub struct SimHookPost {
    /// The path after the sim's base URL, e.g. `/hooks/commands/T0001/C1/U0001/1`.
    pub path: String,
    pub body: Value,
}

/// An entry in posting order, so the transcript can interleave ephemerals with messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posted {
    Message(usize),
    Ephemeral(usize),
}

#[derive(Debug)]
pub(crate) struct State {
    pub config: SlackSimConfig,
    pub messages: Vec<SimMessage>,
    pub ephemerals: Vec<SimEphemeral>,
    pub hook_posts: Vec<SimHookPost>,
    pub order: Vec<Posted>,
    pub calls: HashMap<String, usize>,
    /// 429s: queued, by window, and the record of who waited (`super::ratelimit`).
    pub limits: super::ratelimit::Limits,
    /// method → (calls left to fail, error code)
    pub failures: HashMap<String, (usize, String)>,
    /// Shared files, opened modals, handed-out triggers.
    pub intake: super::intake::IntakeState,
    /// Files uploaded through the external upload flow (`super::uploads`).
    pub uploads: super::uploads::Uploads,
    /// Microseconds past the epoch of the last ts handed out.
    last_ts_micros: u64,
    /// Socket Mode's WebSocket side.
    pub socket: Option<std::sync::Arc<super::socket::SocketHub>>,
}

/// A Slack error code (`{"ok":false,"error":code}`).
pub(crate) type SlackErr = &'static str;

/// The first ts handed out is `1700000000.000100`; each later one is 100 µs after the previous.
const FIRST_TS_MICROS: u64 = 1_700_000_000_000_000;
const TS_STEP_MICROS: u64 = 100;

impl State {
    pub fn new(config: SlackSimConfig) -> Self {
        State {
            config,
            messages: Vec::new(),
            ephemerals: Vec::new(),
            hook_posts: Vec::new(),
            order: Vec::new(),
            calls: HashMap::new(),
            limits: Default::default(),
            failures: HashMap::new(),
            intake: Default::default(),
            uploads: Default::default(),
            last_ts_micros: FIRST_TS_MICROS,
            socket: None,
        }
    }

    /// A new ts, strictly greater than every one before it.
    pub fn next_ts(&mut self) -> String {
        self.last_ts_micros += TS_STEP_MICROS;
        format!(
            "{}.{:06}",
            self.last_ts_micros / 1_000_000,
            self.last_ts_micros % 1_000_000
        )
    }

    pub fn user(&self, id: &str) -> Option<&SimSlackUser> {
        self.config.users.iter().find(|u| u.id == id)
    }

    /// The queued failure for `method`, if any (consumes one).
    pub fn take_failure(&mut self, method: &str) -> Option<String> {
        take_one(&mut self.failures, method).map(|(_, err)| err)
    }

    fn message_index(&self, channel: &str, ts: &str) -> Option<usize> {
        self.messages
            .iter()
            .position(|m| m.channel == channel && m.ts == ts)
    }

    /// `chat.postMessage`. A `thread_ts` naming a reply threads under that reply's root, as Slack
    /// does.
    pub fn post_message(
        &mut self,
        channel: &str,
        user: &str,
        text: String,
        blocks: Value,
        thread_ts: Option<&str>,
    ) -> Result<usize, SlackErr> {
        let thread_ts = match thread_ts {
            None => None,
            Some(ts) => {
                let i = self.message_index(channel, ts).ok_or("thread_not_found")?;
                let parent = &self.messages[i];
                Some(
                    parent
                        .thread_ts
                        .clone()
                        .unwrap_or_else(|| parent.ts.clone()),
                )
            }
        };
        let ts = self.next_ts();
        self.messages.push(SimMessage {
            channel: channel.to_string(),
            ts,
            thread_ts,
            user: user.to_string(),
            text,
            blocks,
            edits: Vec::new(),
        });
        let i = self.messages.len() - 1;
        self.order.push(Posted::Message(i));
        Ok(i)
    }

    /// `chat.update`: the old version goes to `edits`.
    pub fn update_message(
        &mut self,
        channel: &str,
        ts: &str,
        text: Option<String>,
        blocks: Option<Value>,
    ) -> Result<usize, SlackErr> {
        let i = self.message_index(channel, ts).ok_or("message_not_found")?;
        let m = &mut self.messages[i];
        let old = (m.text.clone(), m.blocks.clone());
        m.edits.push(old);
        // Slack keeps what the update leaves out: text-only updates keep the blocks and vice versa.
        if let Some(text) = text {
            m.text = text;
        }
        if let Some(blocks) = blocks {
            m.blocks = blocks;
        }
        Ok(i)
    }

    /// `chat.postEphemeral` or an ephemeral `response_url` reply.
    pub fn post_ephemeral(
        &mut self,
        channel: &str,
        user: &str,
        text: String,
        blocks: Value,
        thread_ts: Option<String>,
        via_response_url: bool,
    ) -> Result<usize, SlackErr> {
        if self.user(user).is_none() {
            return Err("user_not_in_channel");
        }
        let message_ts = self.next_ts();
        self.ephemerals.push(SimEphemeral {
            channel: channel.to_string(),
            user: user.to_string(),
            text,
            blocks,
            thread_ts,
            message_ts,
            via_response_url,
        });
        let i = self.ephemerals.len() - 1;
        self.order.push(Posted::Ephemeral(i));
        Ok(i)
    }
}

/// `message` object of a `chat.postMessage` answer; also fits `chat.update`'s `message`.
pub(crate) fn message_json(m: &SimMessage, bot_id: &str) -> Value {
    let mut v = json!({
        "type": "message",
        "ts": m.ts,
        "user": m.user,
        "bot_id": bot_id,
        "text": m.text,
    });
    if !m.blocks.is_null() {
        v["blocks"] = m.blocks.clone();
    }
    if let Some(t) = &m.thread_ts {
        v["thread_ts"] = json!(t);
    }
    v
}

fn take_one<T: Clone>(map: &mut HashMap<String, (usize, T)>, method: &str) -> Option<(usize, T)> {
    let entry = map.get_mut(method)?;
    if entry.0 == 0 {
        return None;
    }
    entry.0 -= 1;
    let out = entry.clone();
    if entry.0 == 0 {
        map.remove(method);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_values_strictly_increase_and_look_like_slack() {
        let mut s = State::new(SlackSimConfig::demo());
        let a = s.next_ts();
        let b = s.next_ts();
        assert_eq!(a, "1700000000.000100");
        assert_eq!(b, "1700000000.000200");
        let many: Vec<String> = (0..20_000).map(|_| s.next_ts()).collect();
        for w in many.windows(2) {
            let x: f64 = w[0].parse().unwrap();
            let y: f64 = w[1].parse().unwrap();
            assert!(y > x, "{} then {}", w[0], w[1]);
            assert_eq!(w[1].split('.').nth(1).unwrap().len(), 6);
        }
    }

    #[test]
    fn queued_faults_are_consumed_one_per_call() {
        let mut s = State::new(SlackSimConfig::demo());
        s.failures
            .insert("chat.update".into(), (2, "fatal_error".into()));
        assert_eq!(
            s.take_failure("chat.update").as_deref(),
            Some("fatal_error")
        );
        assert_eq!(
            s.take_failure("chat.update").as_deref(),
            Some("fatal_error")
        );
        assert_eq!(s.take_failure("chat.update"), None);
        assert_eq!(s.take_failure("users.info"), None);
    }

    #[test]
    fn reply_to_a_reply_threads_under_the_root() {
        let mut s = State::new(SlackSimConfig::demo());
        let root = s
            .post_message("C1", "UBOT", "root".into(), Value::Null, None)
            .unwrap();
        let root_ts = s.messages[root].ts.clone();
        let r1 = s
            .post_message("C1", "UBOT", "r1".into(), Value::Null, Some(&root_ts))
            .unwrap();
        let r1_ts = s.messages[r1].ts.clone();
        let r2 = s
            .post_message("C1", "UBOT", "r2".into(), Value::Null, Some(&r1_ts))
            .unwrap();
        assert_eq!(s.messages[r2].thread_ts.as_deref(), Some(root_ts.as_str()));
        assert_eq!(
            s.post_message("C2", "UBOT", "x".into(), Value::Null, Some(&root_ts)),
            Err("thread_not_found")
        );
    }
}
