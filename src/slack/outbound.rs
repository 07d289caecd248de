//! Outbound Slack Web API calls through slack-morphism's client, pointed at the configured base
//! URL. A 429 is retried after its `Retry-After` (see `retry`); other failures are returned.

use std::sync::Arc;

use slack_morphism::prelude as sm;
use slack_morphism::prelude::SlackBlock;
use url::Url;

use crate::secret::{ExposeSecret, Secret};

mod api;
mod dm;
mod intake;
pub mod retry;
pub use api::SlackApi;
pub use dm::Lookup;
pub use intake::{download_allowed, DownloadError, FileInfo};
use retry::{Patience, RateGate};

/// A message: the fallback `text` (notifications, screen readers) and its Block Kit blocks.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<SlackBlock>,
}

impl Message {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            blocks: Vec::new(),
        }
    }

    fn content(&self) -> sm::SlackMessageContent {
        let c = sm::SlackMessageContent::new().with_text(self.text.clone());
        if self.blocks.is_empty() {
            c
        } else {
            c.with_blocks(self.blocks.clone())
        }
    }
}

/// What the bot needs to know about a Slack user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackUserInfo {
    pub email: Option<String>,
    pub deleted: bool,
    pub is_bot: bool,
    pub is_guest: bool,
    /// The user's home workspace: another team's id for a Slack Connect user.
    pub team_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("Slack API {method} failed: {detail}")]
pub struct SlackApiError {
    pub method: &'static str,
    pub detail: String,
}

type Connector = sm::SlackClientHyperConnector<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
>;

#[derive(Clone)]
pub struct SlackOut {
    pub(super) client: Arc<sm::SlackClient<Connector>>,
    pub(super) token: sm::SlackApiToken,
    /// Shared by every clone: a 429 to one task holds the method for all.
    pub(super) gate: Arc<RateGate>,
}

impl SlackOut {
    /// `api_url` is Slack's (`https://slack.com/api`) or a loopback fake's; config validation
    /// already refused plain http for any other host.
    pub fn new(api_url: &Url, bot_token: &Secret) -> std::io::Result<Self> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .build();
        // slack-morphism joins `{base}/{method}`: no trailing slash.
        let base = api_url.as_str().trim_end_matches('/').to_string();
        // No slack-morphism rate control: without `max_retries` it never retries a 429, and
        // with it, it retries at once when Slack names no `Retry-After`. `retry::call` does it.
        let connector =
            sm::SlackClientHyperConnector::with_connector(https).with_slack_api_url(&base);
        Ok(Self {
            client: Arc::new(sm::SlackClient::new(connector)),
            token: sm::SlackApiToken::new(sm::SlackApiTokenValue(
                bot_token.expose_secret().to_string(),
            )),
            gate: Arc::default(),
        })
    }

    /// Runs one Web API call through the rate gate of `method`.
    pub(super) async fn call<T, F, Fut>(
        &self,
        method: &'static str,
        patience: Patience,
        f: F,
    ) -> Result<T, slack_morphism::errors::SlackClientError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, slack_morphism::errors::SlackClientError>>,
    {
        retry::call(&self.gate, method, patience, f).await
    }

    /// Posts in `channel` (in a thread when `thread_ts` is given); returns the message `ts`.
    pub async fn post(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<String, SlackApiError> {
        let session = self.client.open_session(&self.token);
        let mut req = sm::SlackApiChatPostMessageRequest::new(
            sm::SlackChannelId(channel.into()),
            msg.content(),
        );
        if let Some(t) = thread_ts {
            req = req.with_thread_ts(sm::SlackTs(t.into()));
        }
        let (session, req) = (&session, &req);
        let resp = self
            .call("chat.postMessage", Patience::Background, move || {
                session.chat_post_message(req)
            })
            .await
            .map_err(|e| err("chat.postMessage", e))?;
        Ok(resp.ts.0)
    }

    pub async fn update(
        &self,
        channel: &str,
        ts: &str,
        msg: &Message,
    ) -> Result<(), SlackApiError> {
        let session = self.client.open_session(&self.token);
        let req = sm::SlackApiChatUpdateRequest::new(
            sm::SlackChannelId(channel.into()),
            msg.content(),
            sm::SlackTs(ts.into()),
        );
        let (session, req) = (&session, &req);
        self.call("chat.update", Patience::Background, move || {
            session.chat_update(req)
        })
        .await
        .map_err(|e| err("chat.update", e))?;
        Ok(())
    }

    /// A message only `user` sees.
    pub async fn ephemeral(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<(), SlackApiError> {
        let session = self.client.open_session(&self.token);
        let mut req = sm::SlackApiChatPostEphemeralRequest::new(
            sm::SlackChannelId(channel.into()),
            sm::SlackUserId(user.into()),
            msg.content(),
        );
        if let Some(t) = thread_ts {
            req = req.with_thread_ts(sm::SlackTs(t.into()));
        }
        let (session, req) = (&session, &req);
        self.call("chat.postEphemeral", Patience::Background, move || {
            session.chat_post_ephemeral(req)
        })
        .await
        .map_err(|e| err("chat.postEphemeral", e))?;
        Ok(())
    }

    pub async fn user_info(&self, user: &str) -> Result<SlackUserInfo, SlackApiError> {
        let session = self.client.open_session(&self.token);
        let req = &sm::SlackApiUsersInfoRequest::new(sm::SlackUserId(user.into()));
        let session = &session;
        let resp = self
            .call("users.info", Patience::Background, move || {
                session.users_info(req)
            })
            .await
            .map_err(|e| err("users.info", e))?;
        let u = resp.user;
        Ok(SlackUserInfo {
            email: u.profile.and_then(|p| p.email).map(|e| e.0),
            deleted: u.deleted.unwrap_or(false),
            is_bot: u.flags.is_bot.unwrap_or(false),
            is_guest: u.flags.is_restricted.unwrap_or(false)
                || u.flags.is_ultra_restricted.unwrap_or(false),
            team_id: u.team_id.map(|t| t.0),
        })
    }

    /// The user IDs in a Slack user group (`usergroups.users.list`); `no_such_subteam` for an
    /// unknown group.
    pub async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, SlackApiError> {
        let session = self.client.open_session(&self.token);
        let req = &sm::SlackApiUserGroupsUsersListRequest::new(sm::SlackUserGroupId(group.into()));
        let session = &session;
        let resp = self
            .call("usergroups.users.list", Patience::Background, move || {
                session.usergroups_users_list(req)
            })
            .await
            .map_err(|e| err("usergroups.users.list", e))?;
        Ok(resp.users.into_iter().map(|u| u.0).collect())
    }
}

fn err(method: &'static str, e: slack_morphism::errors::SlackClientError) -> SlackApiError {
    // slack-morphism's errors carry the API error code and HTTP status, never the token.
    crate::metrics::slack_error(method);
    use slack_morphism::errors::SlackClientError as E;
    // Short, for a person, and never Slack's raw answer: slack-morphism's own text of an API or
    // HTTP error carries the whole response body, which must not reach the store, the audit
    // log, a log line or a message.
    let detail = match &e {
        E::RateLimitError(r) => match r.retry_after {
            Some(d) => format!("ratelimited: Slack asked to wait {} s", d.as_secs().max(1)),
            None => "ratelimited".to_string(),
        },
        E::ApiError(a) => a.code.clone(),
        E::HttpError(h) => format!("HTTP {}", h.status_code.as_u16()),
        E::ProtocolError(_) | E::SocketModeProtocolError(_) => {
            "Slack's answer could not be read".to_string()
        }
        E::HttpProtocolError(_) | E::EndOfStream(_) => "Slack could not be reached".to_string(),
        E::SystemError(_) => "the Slack client failed".to_string(),
    };
    SlackApiError { method, detail }
}

#[cfg(test)]
mod tests {
    use slack_morphism::errors::{SlackClientApiError, SlackClientError, SlackClientHttpError};

    #[test]
    fn an_error_keeps_slacks_code_never_its_raw_answer() {
        let body = Some(r#"{"ok":false,"error":"user_not_found","secret":"xoxb-echoed"}"#.into());
        let api = SlackClientError::ApiError(SlackClientApiError {
            code: "user_not_found".into(),
            errors: None,
            warnings: None,
            http_response_body: body.clone(),
        });
        let e = super::err("users.lookupByEmail", api);
        assert_eq!(e.detail, "user_not_found");
        let http = SlackClientError::HttpError(SlackClientHttpError {
            status_code: axum::http::StatusCode::BAD_GATEWAY,
            http_response_body: body,
        });
        let e = super::err("conversations.open", http);
        assert_eq!(e.detail, "HTTP 502");
        assert!(!e.to_string().contains("xoxb"), "{e}");
    }
}
