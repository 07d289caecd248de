//! Files shared in a channel with a message that mentions the bot. Each Events API callback is
//! claimed in the store by its `event_id` (a retry is dropped), then by the message's channel
//! and ts (the `app_mention` and `message`/`file_share` deliveries of one message make one
//! request). The request then takes the same path as a slash command.

use std::sync::Arc;

use super::intake::Intake;
use super::limits;
use super::Service;
use crate::domain::command::parse_options;
use crate::slack::escape::{code, escape};
use crate::slack::events::{triage, Callback, Triage, Upload};
use crate::slack::outbound::SlackApiError;

/// How long a claimed event is remembered (Slack's last retry comes after about 5 minutes).
const EVENT_MEMORY_MS: i64 = 24 * 60 * 60 * 1000;

pub const UPLOAD_HINT: &str = "To reset the users in a CSV file, share the file in this channel with a message that mentions me, e.g. `@okta-reset reason:\"INC-88\" --revoke-sessions`. Or type `/okta-reset` to open the form.";

impl Service {
    /// The bot's own user id, asked once.
    async fn bot_user(&self) -> Result<&str, SlackApiError> {
        self.bot_user
            .get_or_try_init(|| self.slack.bot_user_id())
            .await
            .map(String::as_str)
    }

    /// Whether this process is the first to see `key`. A store failure counts as "seen": a
    /// request is never started twice on a guess.
    async fn claim(&self, key: &str) -> bool {
        match self.store.claim_event(key, self.now()).await {
            Ok(first) => first,
            Err(e) => {
                tracing::error!(key, error = %e, "could not record an event; dropping it");
                false
            }
        }
    }

    /// An Events API callback, after its signature was checked. `retry` is `X-Slack-Retry-Num`.
    pub async fn on_event(self: &Arc<Self>, cb: Callback, retry: Option<u32>) {
        if cb.team.as_ref() != Some(&self.policy.team) {
            tracing::warn!(event_id = %cb.event_id, "ignored an event from another workspace");
            return;
        }
        let bot = match self.bot_user().await {
            Ok(b) => b.to_string(),
            Err(e) => {
                tracing::error!(error = %e, "auth.test failed; cannot tell mentions of the bot");
                return;
            }
        };
        let t = triage(&cb.event, &bot);
        if let Triage::Ignore(why) = t {
            tracing::debug!(event_id = %cb.event_id, why, "ignored an event");
            return;
        }
        if !self.claim(&format!("event:{}", cb.event_id)).await {
            tracing::info!(event_id = %cb.event_id, ?retry, "event already handled; dropped");
            return;
        }
        match t {
            Triage::Upload(up) => {
                if self.claim(&up.dedupe_key()).await {
                    self.on_upload(up).await;
                } else {
                    tracing::info!(event_id = %cb.event_id, "second delivery of a shared file; dropped");
                }
            }
            Triage::MentionWithoutFile { channel, user } => {
                self.tell(channel.as_str(), user.as_str(), None, UPLOAD_HINT)
                    .await;
            }
            Triage::Ignore(_) => {}
        }
    }

    async fn on_upload(self: &Arc<Self>, up: Upload) {
        let team = self.policy.team.clone();
        let (channel, user) = (up.channel.clone(), up.user.clone());
        let tell = |text: String| {
            let svc = self.clone();
            let (channel, user) = (channel.clone(), user.clone());
            async move { svc.tell(channel.as_str(), user.as_str(), None, &text).await }
        };
        if let Err(refusal) = self.check_requester_at(&team, &channel, &user).await {
            return tell(refusal).await;
        }
        let spec = match parse_options(&up.text) {
            Ok(spec) => spec,
            Err(e) => {
                let why = escape(&e.to_string());
                self.refused(&channel, &user, &why).await;
                return tell(format!(
                    "The message next to the file was not understood: {why}.\n\n{UPLOAD_HINT}"
                ))
                .await;
            }
        };
        if let Err(refusal) = self
            .check_reason_of(&channel, &user, spec.reason.as_deref())
            .await
        {
            return tell(refusal).await;
        }
        // Before the file is downloaded: a person at their limit costs nothing.
        if let Err(refusal) = self
            .check_limits_at(&channel, &user, spec.dry_run, limits::IN_MESSAGES)
            .await
        {
            return tell(refusal).await;
        }
        let [file_id] = up.files.as_slice() else {
            let why = format!(
                "Share one file per request; this message has {}.",
                up.files.len()
            );
            self.refused(&channel, &user, &why).await;
            return tell(why).await;
        };
        let file = match self.read_upload(file_id).await {
            Ok(f) => f,
            Err(why) => {
                self.refused(&channel, &user, &why).await;
                return tell(why).await;
            }
        };
        let (name, rows) = (file.name.clone(), file.read.rows);
        let id = self.start(Intake {
            team,
            channel: channel.clone(),
            user: user.clone(),
            spec,
            file: Some(file),
            raw_text: Some(up.text.clone()),
        });
        tell(format!(
            "Looking up the targets in Okta for request {id} ({rows} row(s) from {})…",
            code(&name)
        ))
        .await;
    }

    /// Forgets event claims Slack can no longer retry.
    pub async fn forget_old_events(&self) {
        if let Err(e) = self
            .store
            .forget_events_before(self.now() - EVENT_MEMORY_MS)
            .await
        {
            tracing::warn!(error = %e, "could not forget old events");
        }
    }
}
