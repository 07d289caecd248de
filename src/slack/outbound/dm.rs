//! `policy.notify_users`: finding a reset person in Slack by their Okta primary email
//! (`users.lookupByEmail`, Tier 3, scope `users:read.email`) and opening the bot's DM with them
//! (`conversations.open`, scope `im:write`). The message itself goes by `chat.postMessage`.

use slack_morphism::prelude as sm;

use super::retry::Patience;
use super::{err, SlackApiError, SlackOut};

/// Who an email belongs to in Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A Slack user with this email: their id, and whether the account is deactivated
    /// (`deleted: true` — Slack still finds deactivated users by email).
    Found { id: String, deleted: bool },
    /// `users_not_found`: nobody in the workspace has this email.
    NoAccount,
}

impl SlackOut {
    pub async fn lookup_by_email(&self, email: &str) -> Result<Lookup, SlackApiError> {
        let session = &self.client.open_session(&self.token);
        let req = &sm::SlackApiUsersLookupByEmailRequest::new(sm::EmailAddress(email.into()));
        match self
            .call("users.lookupByEmail", Patience::Background, move || {
                session.users_lookup_by_email(req)
            })
            .await
        {
            Ok(r) => Ok(Lookup::Found {
                id: r.user.id.0,
                deleted: r.user.deleted.unwrap_or(false),
            }),
            Err(slack_morphism::errors::SlackClientError::ApiError(e))
                if e.code == "users_not_found" =>
            {
                Ok(Lookup::NoAccount)
            }
            Err(e) => Err(err("users.lookupByEmail", e)),
        }
    }

    /// The id of the bot's direct-message channel with `user` (opened if needed).
    pub async fn open_dm(&self, user: &str) -> Result<String, SlackApiError> {
        let session = &self.client.open_session(&self.token);
        let req = &sm::SlackApiConversationsOpenRequest::new()
            .with_users(vec![sm::SlackUserId(user.into())]);
        let r = self
            .call("conversations.open", Patience::Background, move || {
                session.conversations_open(req)
            })
            .await
            .map_err(|e| err("conversations.open", e))?;
        Ok(r.channel.id.0)
    }
}
