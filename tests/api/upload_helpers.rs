//! Typed helpers for shared files and the request form, next to the ones in `helpers`.

use std::time::Duration;

use okta_reset::sim::slack::{DriverResponse, SimFile, SimView, SlackDriver};
use okta_reset::sim::world::CHANNEL;
use serde_json::{json, Value};

use crate::helpers::*;

/// Slack's own limit for answering the Events API and interactions.
pub const SLACK_PATIENCE: Duration = Duration::from_secs(3);

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture exists")
}

impl TestApp {
    /// `user` uploads a file to Slack (not yet shared anywhere).
    pub fn upload(&self, user: &str, name: &str, bytes: impl Into<Vec<u8>>) -> SimFile {
        self.w.slack.add_file(user, name, bytes.into())
    }

    /// `user` shares `files` in `channel` with `text` (`<@UBOT> …`): Slack delivers the message
    /// twice, as `app_mention` and as `message`/`file_share`. Returns the message ts.
    pub async fn share_in(
        &self,
        user: &str,
        channel: &str,
        text: &str,
        files: &[SimFile],
    ) -> String {
        let ts = self.w.slack.next_ts();
        let d = &self.w.driver;
        for event in [
            d.app_mention(user, channel, &ts, text, files),
            d.file_share(user, channel, &ts, text, files),
        ] {
            let r = d.deliver_event(&d.event_envelope(event), None).await;
            assert_eq!(r.status, 200, "event answered {}: {}", r.status, r.body);
            assert!(
                r.elapsed < SLACK_PATIENCE,
                "event answered after {:?}",
                r.elapsed
            );
        }
        ts
    }

    pub async fn share(&self, user: &str, text: &str, files: &[SimFile]) -> String {
        self.share_in(user, CHANNEL, text, files).await
    }

    /// Delivers one envelope and checks it was acknowledged in time.
    pub async fn deliver(&self, envelope: &Value, retry: Option<u32>) {
        let r = self.w.driver.deliver_event(envelope, retry).await;
        assert_eq!(r.status, 200, "event answered {}: {}", r.status, r.body);
        assert!(
            r.elapsed < SLACK_PATIENCE,
            "event answered after {:?}",
            r.elapsed
        );
    }

    /// `/okta-reset` with `text` (empty or `form`): the form opens, and Slack is told nothing
    /// else. Returns the opened view.
    pub async fn open_form(&self, user: &str, text: &str) -> SimView {
        let before = self.w.slack.views().len();
        let r = self.w.driver.slash(user, CHANNEL, text).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, ""),
            "the form opens silently"
        );
        let views = self.w.slack.views();
        assert_eq!(views.len(), before + 1, "one view opened");
        views.last().cloned().unwrap()
    }

    pub async fn submit_form(&self, user: &str, view: &SimView, values: Value) -> DriverResponse {
        let r = self.w.driver.submit_view(user, view, values).await;
        assert_eq!(
            r.status, 200,
            "submission answered {}: {}",
            r.status, r.body
        );
        assert!(r.elapsed < SLACK_PATIENCE, "answered after {:?}", r.elapsed);
        r
    }

    /// Every text the bot posted or showed (messages with their blocks and edits, ephemerals).
    pub fn everything_said(&self) -> String {
        let mut all = String::new();
        for m in self.w.slack.messages() {
            all.push_str(&format!("{}\n{}\n", m.text, m.blocks));
            for (t, b) in &m.edits {
                all.push_str(&format!("{t}\n{b}\n"));
            }
        }
        for e in self.w.slack.ephemerals() {
            all.push_str(&format!("{}\n{}\n", e.text, e.blocks));
        }
        all
    }

    /// No Okta call at all (refusals that need no lookup).
    pub fn assert_okta_untouched(&self) {
        assert_eq!(self.w.okta.stats().total_calls, 0, "Okta was called");
    }
}

/// Form values: a kind, optional field values, a reason and options.
pub fn form_values(kind: &str, fields: &[(&str, Value)], reason: Option<&str>) -> Value {
    let mut v = json!({
        "kind": {"kind": {"type": "radio_buttons", "selected_option": {"value": kind}}},
        "reason": {"reason": {"type": "plain_text_input", "value": reason}},
        "options": {"options": {"type": "checkboxes", "selected_options": []}},
        "group": {"group": {"type": "plain_text_input", "value": null}},
        "users": {"users": {"type": "plain_text_input", "value": null}},
        "file": {"file": {"type": "file_input", "files": []}},
    });
    for (block, value) in fields {
        v[*block] = json!({ *block: value });
    }
    v
}

pub fn file_value(files: &[SimFile]) -> Value {
    SlackDriver::file_input_value(files)
}

pub fn text_value(text: &str) -> Value {
    json!({"type": "plain_text_input", "value": text})
}
