//! The Slack Web API as the rest of the bot uses it: one trait with the calls the application
//! layer and the jobs make, implemented by the real [`SlackOut`] (tests may put a fake that
//! records messages in its place). `okta-reset check` keeps the concrete client for the calls
//! only it makes (`conversations.info` membership).

use async_trait::async_trait;
use url::Url;

use super::{DownloadError, FileInfo, Lookup, Message, SlackApiError, SlackOut, SlackUserInfo};
use crate::results::CsvFile;
use crate::slack::upload::UploadError;

#[async_trait]
pub trait SlackApi: Send + Sync + 'static {
    /// `chat.postMessage` in `channel` (in a thread when `thread_ts` is given); the message `ts`.
    async fn post(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<String, SlackApiError>;

    /// `chat.update` of the message `ts`.
    async fn update(&self, channel: &str, ts: &str, msg: &Message) -> Result<(), SlackApiError>;

    /// `chat.postEphemeral`: a message only `user` sees.
    async fn ephemeral(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<(), SlackApiError>;

    /// `users.info`.
    async fn user_info(&self, user: &str) -> Result<SlackUserInfo, SlackApiError>;

    /// The user IDs in a Slack user group (`usergroups.users.list`).
    async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, SlackApiError>;

    /// `users.lookupByEmail`.
    async fn lookup_by_email(&self, email: &str) -> Result<Lookup, SlackApiError>;

    /// The id of the bot's direct-message channel with `user` (`conversations.open`).
    async fn open_dm(&self, user: &str) -> Result<String, SlackApiError>;

    /// `views.open` with the `trigger_id` of a slash command.
    async fn views_open(
        &self,
        trigger_id: &str,
        view: serde_json::Value,
    ) -> Result<(), SlackApiError>;

    /// `files.info`.
    async fn file_info(&self, file_id: &str) -> Result<FileInfo, SlackApiError>;

    /// The bot's own Slack user id (`auth.test`).
    async fn bot_user_id(&self) -> Result<String, SlackApiError>;

    /// Whether `channel` is a direct message the bot is in.
    async fn is_dm_with_bot(&self, channel: &str) -> Result<bool, SlackApiError>;

    /// A private file, downloaded with the bot token from Slack's file host only, at most `cap`
    /// bytes.
    async fn download(
        &self,
        url: &Url,
        api_url: &Url,
        cap: usize,
    ) -> Result<Vec<u8>, DownloadError>;

    /// Uploads `file` into the thread `thread_ts` of `channel`; the file id.
    async fn upload_file(
        &self,
        channel: &str,
        thread_ts: &str,
        file: &CsvFile,
        comment: &str,
    ) -> Result<String, UploadError>;
}

/// Each method is the client's own (documented there); `SlackOut::…` names the inherent one.
#[async_trait]
impl SlackApi for SlackOut {
    async fn post(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<String, SlackApiError> {
        SlackOut::post(self, channel, thread_ts, msg).await
    }

    async fn update(&self, channel: &str, ts: &str, msg: &Message) -> Result<(), SlackApiError> {
        SlackOut::update(self, channel, ts, msg).await
    }

    async fn ephemeral(
        &self,
        channel: &str,
        user: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<(), SlackApiError> {
        SlackOut::ephemeral(self, channel, user, thread_ts, msg).await
    }

    async fn user_info(&self, user: &str) -> Result<SlackUserInfo, SlackApiError> {
        SlackOut::user_info(self, user).await
    }

    async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, SlackApiError> {
        SlackOut::usergroup_members(self, group).await
    }

    async fn lookup_by_email(&self, email: &str) -> Result<Lookup, SlackApiError> {
        SlackOut::lookup_by_email(self, email).await
    }

    async fn open_dm(&self, user: &str) -> Result<String, SlackApiError> {
        SlackOut::open_dm(self, user).await
    }

    async fn views_open(
        &self,
        trigger_id: &str,
        view: serde_json::Value,
    ) -> Result<(), SlackApiError> {
        SlackOut::views_open(self, trigger_id, view).await
    }

    async fn file_info(&self, file_id: &str) -> Result<FileInfo, SlackApiError> {
        SlackOut::file_info(self, file_id).await
    }

    async fn bot_user_id(&self) -> Result<String, SlackApiError> {
        SlackOut::bot_user_id(self).await
    }

    async fn is_dm_with_bot(&self, channel: &str) -> Result<bool, SlackApiError> {
        SlackOut::is_dm_with_bot(self, channel).await
    }

    async fn download(
        &self,
        url: &Url,
        api_url: &Url,
        cap: usize,
    ) -> Result<Vec<u8>, DownloadError> {
        SlackOut::download(self, url, api_url, cap).await
    }

    async fn upload_file(
        &self,
        channel: &str,
        thread_ts: &str,
        file: &CsvFile,
        comment: &str,
    ) -> Result<String, UploadError> {
        SlackOut::upload_file(self, channel, thread_ts, file, comment).await
    }
}
