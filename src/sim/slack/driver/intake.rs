//! Slack's side for shared files and the request form: Events API callbacks (`app_mention`,
//! `message`/`file_share`, with Slack's retry headers) and `view_submission` payloads, signed.

use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use super::{now_unix, trigger_id, DriverResponse, SlackDriver};
use crate::sim::slack::{SimFile, SimView, SIM_BOT_ID};
use crate::slack::verify::sign;

impl SlackDriver {
    fn bot_user_id(&self) -> String {
        self.sim
            .as_ref()
            .map(|s| s.config().bot_user_id)
            .unwrap_or_else(|| "UBOT".to_string())
    }

    /// An `event_callback` envelope around `event`, with a fresh `event_id`.
    pub fn event_envelope(&self, event: Value) -> Value {
        let n = self.nonce.fetch_add(1, Ordering::Relaxed) + 1;
        json!({
            "token": "sim-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": format!("Ev{n:08}SIM"),
            "event_time": now_unix(),
            "authorizations": [{
                "enterprise_id": null, "team_id": self.team_id,
                "user_id": self.bot_user_id(), "is_bot": true, "is_enterprise_install": false
            }],
            "is_ext_shared_channel": false,
            "event_context": format!("4-sim-{n}"),
        })
    }

    fn message_fields(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        text: &str,
        files: &[SimFile],
    ) -> Value {
        json!({
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel": channel,
            "team": self.team_id,
            "client_msg_id": format!("sim-{ts}"),
            "files": files.iter().map(SimFile::to_json).collect::<Vec<_>>(),
            "upload": !files.is_empty(),
            "display_as_bot": false,
            "blocks": [],
        })
    }

    /// The `app_mention` event of a message (`text` as Slack formats it: `<@UBOT> reason:…`).
    pub fn app_mention(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        text: &str,
        files: &[SimFile],
    ) -> Value {
        let mut e = self.message_fields(user, channel, ts, text, files);
        e["type"] = json!("app_mention");
        if files.is_empty() {
            let m = e.as_object_mut().expect("an object");
            m.remove("files");
            m.remove("upload");
        }
        e
    }

    /// The `message` event with subtype `file_share` of the same message.
    pub fn file_share(
        &self,
        user: &str,
        channel: &str,
        ts: &str,
        text: &str,
        files: &[SimFile],
    ) -> Value {
        let mut e = self.message_fields(user, channel, ts, text, files);
        e["type"] = json!("message");
        e["subtype"] = json!("file_share");
        e["channel_type"] = json!("channel");
        e
    }

    /// A message the bot posted, as the `message` event Slack echoes back to it.
    pub fn bot_message(&self, channel: &str, ts: &str, text: &str) -> Value {
        json!({
            "type": "message", "subtype": "bot_message", "bot_id": SIM_BOT_ID,
            "user": self.bot_user_id(), "text": text, "ts": ts, "channel": channel,
            "event_ts": ts, "channel_type": "channel"
        })
    }

    /// POST `{bot}/slack/events`, signed now; `retry` adds Slack's retry headers.
    pub async fn deliver_event(&self, envelope: &Value, retry: Option<u32>) -> DriverResponse {
        let body = envelope.to_string().into_bytes();
        let ts = now_unix().to_string();
        let mut headers = vec![
            ("X-Slack-Request-Timestamp".to_string(), ts.clone()),
            (
                "X-Slack-Signature".to_string(),
                sign(&self.signing_secret, &ts, &body),
            ),
        ];
        if let Some(n) = retry {
            headers.push(("X-Slack-Retry-Num".into(), n.to_string()));
            headers.push(("X-Slack-Retry-Reason".into(), "http_timeout".into()));
        }
        self.post_raw("/slack/events", "application/json", body, headers)
            .await
    }

    /// The `view_submission` of `view` by `user` with these `state.values`.
    pub fn view_submission_payload(&self, user: &str, view: &SimView, values: Value) -> Value {
        let mut v = view.view.clone();
        v["id"] = json!(view.id);
        v["team_id"] = json!(self.team_id);
        v["state"] = json!({ "values": values });
        v["hash"] = json!(format!("1700000000.{}", view.id));
        v["previous_view_id"] = Value::Null;
        v["root_view_id"] = json!(view.id);
        v["app_id"] = json!(self.api_app_id);
        v["bot_id"] = json!(SIM_BOT_ID);
        json!({
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": {"id": user, "username": self.user_name(user), "name": self.user_name(user),
                     "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": "sim-verification-token",
            "trigger_id": trigger_id(),
            "view": v,
            "response_urls": [],
            "is_enterprise_install": false,
            "enterprise": null,
        })
    }

    /// POST `{bot}/slack/interactions` with `payload=<view_submission JSON>`, signed now.
    pub async fn submit_view(&self, user: &str, view: &SimView, values: Value) -> DriverResponse {
        let payload = self.view_submission_payload(user, view, values);
        let body = serde_urlencoded::to_string([("payload", payload.to_string())])
            .expect("string pairs always encode")
            .into_bytes();
        self.post_signed(
            "/slack/interactions",
            "application/x-www-form-urlencoded",
            body,
            now_unix(),
        )
        .await
    }

    /// A `file_input` element's value holding `files`, as in a real `view_submission`.
    pub fn file_input_value(files: &[SimFile]) -> Value {
        json!({"type": "file_input", "files": files.iter().map(SimFile::to_json).collect::<Vec<_>>()})
    }
}
