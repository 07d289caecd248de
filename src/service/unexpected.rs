//! "I didn't expect this" on the DM a reset person got (`policy.notify_users`,
//! `slack::render_notice`). It tells the request's thread once and is audited (`user_reported`);
//! it changes nothing else. Only the person the DM was for can use it, and only on that DM.

use std::sync::Arc;

use serde_json::json;

use super::{Action, Service};
use crate::slack::outbound::Message;
use crate::slack::render_notice::reported;

impl Service {
    pub(super) async fn on_unexpected(self: &Arc<Self>, a: &Action) {
        let answer = match self.report_unexpected(a).await {
            Ok(()) => "Thank you: IT has been told in the request's thread. Nothing else changed; use Okta's email to set a new password, or wait for IT to contact you.".to_string(),
            Err(why) => why,
        };
        self.tell(a.channel.as_str(), a.user.as_str(), None, &answer)
            .await;
    }

    /// Posts the report in the thread, or returns the sentence to tell the clicker instead.
    async fn report_unexpected(&self, a: &Action) -> Result<(), String> {
        let id = a.request.as_str();
        let store_down = |e: crate::store::StoreError| {
            tracing::error!(error = %e, "store failed during a report");
            "The bot's store could not be reached; nothing was reported. Try again shortly."
                .to_string()
        };
        let r = self
            .store
            .get_request(id)
            .await
            .map_err(store_down)?
            .ok_or_else(|| format!("There is no request {id}; nothing was posted."))?;
        // The click counts only on the DM the bot sent for this request (channel and ts as
        // recorded when it was posted), whatever the button's value says.
        let notices = self.store.notices(id).await.map_err(store_down)?;
        let Some(n) = notices.iter().find(|n| {
            n.dm_channel.as_deref() == Some(a.channel.as_str())
                && n.dm_ts.is_some()
                && n.dm_ts == a.message_ts
        }) else {
            return Err(format!(
                "That button is not on a reset notice the bot sent for {id}; nothing was posted."
            ));
        };
        if n.slack_user.as_deref() != Some(a.user.as_str()) {
            self.audit(
                Some(id),
                Some(a.user.as_str()),
                "user_report_refused",
                json!({"why": "not the person the notice was for", "notice_for": n.slack_user}),
            )
            .await;
            return Err(
                "Only the person whose password was reset can report it from this message; nothing was posted."
                    .into(),
            );
        }
        if !self
            .store
            .report_notice(id, n.seq, self.now())
            .await
            .map_err(store_down)?
        {
            return Err(
                "You already reported this reset; IT was told in the request's thread. Nothing was posted again."
                    .into(),
            );
        }
        self.audit(
            Some(id),
            Some(a.user.as_str()),
            "user_reported",
            json!({"seq": n.seq}),
        )
        .await;
        self.say_in_thread(&r, &Message::text(reported(a.user.as_str())))
            .await;
        Ok(())
    }
}
