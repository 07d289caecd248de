//! Files into a thread with Slack's external upload flow: `files.getUploadURLExternal` (name and
//! length) → POST the bytes to the returned `upload_url` → `files.completeUploadExternal` with
//! `channel_id` and `thread_ts`. (`files.upload` was sunset in November 2025.) slack-morphism
//! 2.31.1 has all three calls.

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude as sm;

use super::outbound::SlackOut;
use crate::results::CsvFile;

/// Why an upload did not happen, short enough to show in the thread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{step} failed: {reason}")]
pub struct UploadError {
    pub step: &'static str,
    /// Slack's error code (`file_uploads_disabled`), an HTTP status, or what else went wrong.
    pub reason: String,
}

fn failed(step: &'static str, e: SlackClientError) -> UploadError {
    let reason = match &e {
        SlackClientError::ApiError(api) => api.code.clone(),
        SlackClientError::HttpError(h) => format!("HTTP {}", h.status_code.as_u16()),
        SlackClientError::RateLimitError(_) => "ratelimited".to_string(),
        _ => "no answer from Slack".to_string(),
    };
    tracing::warn!(step, error = %e, "file upload step failed");
    UploadError { step, reason }
}

impl SlackOut {
    /// Uploads `file` as a reply in the thread `thread_ts` of `channel`; returns the file id.
    pub async fn upload_file(
        &self,
        channel: &str,
        thread_ts: &str,
        file: &CsvFile,
        comment: &str,
    ) -> Result<String, UploadError> {
        let session = self.client.open_session(&self.token);
        let ticket = session
            .get_upload_url_external(&sm::SlackApiFilesGetUploadUrlExternalRequest::new(
                file.filename.clone(),
                file.bytes.len(),
            ))
            .await
            .map_err(|e| failed("files.getUploadURLExternal", e))?;
        // slack-morphism sends the bot token along with the bytes: only over TLS (or to a
        // loopback fake), whatever URL came back.
        let url = &ticket.upload_url.0;
        if url.scheme() != "https" && !crate::config::is_loopback(url) {
            return Err(UploadError {
                step: "upload",
                reason: format!("Slack gave a non-https upload URL ({})", url.scheme()),
            });
        }
        session
            .files_upload_via_url(&sm::SlackApiFilesUploadViaUrlRequest::new(
                ticket.upload_url.clone(),
                file.bytes.clone(),
                "text/csv".to_string(),
            ))
            .await
            .map_err(|e| failed("upload", e))?;
        let done =
            sm::SlackApiFilesComplete::new(ticket.file_id.clone()).with_title(file.title.clone());
        session
            .files_complete_upload_external(
                &sm::SlackApiFilesCompleteUploadExternalRequest::new(vec![done])
                    .with_channel_id(sm::SlackChannelId(channel.into()))
                    .with_thread_ts(sm::SlackTs(thread_ts.into()))
                    .with_initial_comment(comment.to_string()),
            )
            .await
            .map_err(|e| failed("files.completeUploadExternal", e))?;
        Ok(ticket.file_id.0)
    }
}
