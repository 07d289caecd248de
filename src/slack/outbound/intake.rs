//! Web API calls for taking requests in: `views.open` (the request form), `files.info` and the
//! download of a shared file, `auth.test` (the bot's own user id, to recognise its mentions).

use std::time::Duration;

use slack_morphism::prelude as sm;
use url::Url;

use super::retry::{self, Patience, Tries};
use super::{err, SlackApiError, SlackOut};

/// The rate gate's key for private file downloads (not a Web API method, limited all the same).
const DOWNLOAD: &str = "files-pri download";

/// What `files.info` says about a shared file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub id: String,
    pub name: String,
    pub filetype: Option<String>,
    pub mimetype: Option<String>,
    pub url_private_download: Option<Url>,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the file's address is not on Slack's file host")]
    ForeignHost,
    #[error("Slack answered HTTP {0}")]
    Status(u16),
    #[error("Slack answered with a web page instead of the file (is the app's files:read scope granted?)")]
    WebPage,
    #[error("the download failed: {0}")]
    Transport(String),
}

/// Whether the bot may send its token to `url`: Slack's file host for the configured API
/// (`https://files.slack.com` for `https://slack.com/api`), or the API's own origin (a loopback
/// fake). A file URL comes from a payload; the token must never follow it anywhere else.
pub fn download_allowed(url: &Url, api_url: &Url) -> bool {
    let same_origin = url.scheme() == api_url.scheme()
        && url.host_str() == api_url.host_str()
        && url.port_or_known_default() == api_url.port_or_known_default();
    let files_host = api_url
        .host_str()
        .map(|h| format!("files.{h}"))
        .is_some_and(|files| url.scheme() == "https" && url.host_str() == Some(files.as_str()));
    same_origin || files_host
}

impl SlackOut {
    /// Opens a modal with the `trigger_id` of a slash command (valid for 3 s, once).
    pub async fn views_open(
        &self,
        trigger_id: &str,
        view: serde_json::Value,
    ) -> Result<(), SlackApiError> {
        let view: sm::SlackView = serde_json::from_value(view).map_err(|e| SlackApiError {
            method: "views.open",
            detail: format!("the view is not valid Block Kit: {e}"),
        })?;
        let session = &self.client.open_session(&self.token);
        let req = &sm::SlackApiViewsOpenRequest::new(sm::SlackTriggerId(trigger_id.into()), view);
        self.call("views.open", Patience::Trigger, move || {
            session.views_open(req)
        })
        .await
        .map_err(|e| err("views.open", e))?;
        Ok(())
    }

    pub async fn file_info(&self, file_id: &str) -> Result<FileInfo, SlackApiError> {
        let session = &self.client.open_session(&self.token);
        let req = &sm::SlackApiFilesInfoRequest::new(sm::SlackFileId(file_id.into()));
        let f = self
            .call("files.info", Patience::Background, move || {
                session.files_info(req)
            })
            .await
            .map_err(|e| err("files.info", e))?
            .file;
        Ok(FileInfo {
            id: f.id.0,
            name: f.name.or(f.title).unwrap_or_else(|| file_id.to_string()),
            filetype: f.filetype.map(|t| t.0),
            mimetype: f.mimetype.map(|t| t.0),
            url_private_download: f.url_private_download,
        })
    }

    /// The bot's own Slack user id.
    pub async fn bot_user_id(&self) -> Result<String, SlackApiError> {
        let session = &self.client.open_session(&self.token);
        let r = self
            .call("auth.test", Patience::Background, move || {
                session.auth_test()
            })
            .await
            .map_err(|e| err("auth.test", e))?;
        Ok(r.user_id.0)
    }

    /// Whether the bot is a member of `channel` (`conversations.info`; `okta-reset check`).
    pub async fn is_member(&self, channel: &str) -> Result<bool, SlackApiError> {
        let session = &self.client.open_session(&self.token);
        let req = &sm::SlackApiConversationsInfoRequest::new(sm::SlackChannelId(channel.into()));
        let r = self
            .call("conversations.info", Patience::Background, move || {
                session.conversations_info(req)
            })
            .await
            .map_err(|e| err("conversations.info", e))?;
        Ok(r.channel.flags.is_member.unwrap_or(false))
    }

    /// Whether `channel` is a direct message the bot is in (`conversations.info`, `is_im`).
    /// A DM with the bot has two members, so a command typed there came from its other member;
    /// other people's DMs are invisible to the bot (`channel_not_found`: false).
    pub async fn is_dm_with_bot(&self, channel: &str) -> Result<bool, SlackApiError> {
        let session = self.client.open_session(&self.token);
        let r = session
            .conversations_info(&sm::SlackApiConversationsInfoRequest::new(
                sm::SlackChannelId(channel.into()),
            ))
            .await;
        match r {
            Ok(r) => Ok(r.channel.flags.is_im.unwrap_or(false)),
            Err(slack_morphism::errors::SlackClientError::ApiError(e))
                if e.code == "channel_not_found" =>
            {
                Ok(false)
            }
            Err(e) => Err(err("conversations.info", e)),
        }
    }

    /// Downloads a private file with the bot token, reading at most `cap` bytes: a longer file
    /// is refused as soon as the cap is passed, whatever its declared length.
    pub async fn download(
        &self,
        url: &Url,
        api_url: &Url,
        cap: usize,
    ) -> Result<Vec<u8>, DownloadError> {
        if !download_allowed(url, api_url) {
            return Err(DownloadError::ForeignHost);
        }
        let allowed_api = api_url.clone();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // Redirects are followed only to hosts the token may go to (reqwest also drops the
            // Authorization header on any cross-host hop).
            .redirect(reqwest::redirect::Policy::custom(move |a| {
                if a.previous().len() >= 5 || !download_allowed(a.url(), &allowed_api) {
                    a.stop()
                } else {
                    a.follow()
                }
            }))
            .build()
            .map_err(|e| DownloadError::Transport(e.to_string()))?;
        // Slack's file host rate-limits too: a 429 is waited out like a Web API method's.
        let mut tries = Tries::new(&self.gate, DOWNLOAD, Patience::Background);
        let mut resp = loop {
            if tries.ready().await.is_err() {
                return Err(DownloadError::Status(429));
            }
            let resp = http
                .get(url.clone())
                .bearer_auth(&self.token.token_value.0)
                .send()
                .await
                .map_err(|e| DownloadError::Transport(e.without_url().to_string()))?;
            if resp.status() != reqwest::StatusCode::TOO_MANY_REQUESTS
                || !tries.refused(retry::retry_after(resp.headers()))
            {
                break resp;
            }
        };
        if !resp.status().is_success() {
            return Err(DownloadError::Status(resp.status().as_u16()));
        }
        let html = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/html"));
        if html {
            return Err(DownloadError::WebPage);
        }
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(DownloadError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| DownloadError::Transport(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > cap {
                return Err(DownloadError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_to_slacks_file_host_or_the_apis_own_origin() {
        let slack = Url::parse("https://slack.com/api").unwrap();
        let ok = |u: &str, api: &Url| download_allowed(&Url::parse(u).unwrap(), api);
        assert!(ok(
            "https://files.slack.com/files-pri/T1-F1/download/a.csv",
            &slack
        ));
        assert!(ok("https://slack.com/files-pri/T1-F1/a.csv", &slack));
        assert!(!ok("http://files.slack.com/files-pri/T1-F1/a.csv", &slack));
        assert!(!ok("https://files.slack.com.evil.example/a.csv", &slack));
        assert!(!ok("https://evil.example/files.slack.com/a.csv", &slack));
        let sim = Url::parse("http://127.0.0.1:4000/api").unwrap();
        assert!(ok(
            "http://127.0.0.1:4000/files-pri/T1-F1/download/a.csv",
            &sim
        ));
        assert!(!ok("http://127.0.0.1:4001/files-pri/a.csv", &sim));
    }
}
