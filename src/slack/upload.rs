//! Files into a thread with Slack's external upload flow: `files.getUploadURLExternal` (name and
//! length) → POST the bytes to the returned `upload_url` → `files.completeUploadExternal` with
//! `channel_id` and `thread_ts`. (`files.upload` was sunset in November 2025.) The two API calls
//! go through slack-morphism 2.31.1; the bytes go with a plain POST: the upload URL is its own
//! credential, so the bot token is not sent to it, and it is not a Web API method, so it does not
//! spend the Tier 4 budget of the upload methods. A 429 on any of the three is retried after its
//! `Retry-After` (`outbound::retry`).

use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude as sm;

use super::outbound::retry::{retry_after, Patience, RateGate, Tries};
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
    crate::metrics::slack_error(step);
    let reason = match &e {
        SlackClientError::ApiError(api) => api.code.clone(),
        SlackClientError::HttpError(h) => format!("HTTP {}", h.status_code.as_u16()),
        SlackClientError::RateLimitError(_) => "ratelimited".to_string(),
        _ => "no answer from Slack".to_string(),
    };
    // The short reason, not the error: a protocol error's text carries Slack's whole answer,
    // which for files.getUploadURLExternal holds the one-time upload URL.
    tracing::warn!(step, reason = %reason, "file upload step failed");
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
        let session = &self.client.open_session(&self.token);
        let ask = &sm::SlackApiFilesGetUploadUrlExternalRequest::new(
            file.filename.clone(),
            file.bytes.len(),
        );
        let ticket = self
            .call(
                "files.getUploadURLExternal",
                Patience::Background,
                move || session.get_upload_url_external(ask),
            )
            .await
            .map_err(|e| failed("files.getUploadURLExternal", e))?;
        post_bytes(&self.gate, &ticket.upload_url.0, &file.bytes).await?;
        let done =
            sm::SlackApiFilesComplete::new(ticket.file_id.clone()).with_title(file.title.clone());
        let complete = &sm::SlackApiFilesCompleteUploadExternalRequest::new(vec![done])
            .with_channel_id(sm::SlackChannelId(channel.into()))
            .with_thread_ts(sm::SlackTs(thread_ts.into()))
            .with_initial_comment(comment.to_string());
        self.call(
            "files.completeUploadExternal",
            Patience::Background,
            move || session.files_complete_upload_external(complete),
        )
        .await
        .map_err(|e| failed("files.completeUploadExternal", e))?;
        Ok(ticket.file_id.0)
    }
}

/// The rate gate's key for the bytes' POST (not a Web API method, limited all the same).
const UPLOAD_POST: &str = "upload URL";

/// How long the bytes may take to reach Slack's upload host.
const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// POSTs `bytes` to the upload URL Slack handed out: over TLS only (or to a loopback fake).
async fn post_bytes(gate: &RateGate, url: &url::Url, bytes: &[u8]) -> Result<(), UploadError> {
    let refused = |reason: String| UploadError {
        step: "upload",
        reason,
    };
    if url.scheme() != "https" && !crate::config::is_loopback(url) {
        return Err(refused(format!(
            "Slack gave a non-https upload URL ({})",
            url.scheme()
        )));
    }
    let http = reqwest::Client::builder()
        .timeout(UPLOAD_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| refused(format!("no HTTP client: {e}")))?;
    // A 429 from the upload host is waited out like a Web API method's.
    let mut tries = Tries::new(gate, UPLOAD_POST, Patience::Background);
    let resp = loop {
        if tries.ready().await.is_err() {
            return Err(refused("ratelimited".into()));
        }
        let resp = http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "text/csv")
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(|e| {
                // Without the URL: Slack's upload URL is a one-time capability, not for the log.
                let e = e.without_url();
                tracing::warn!(error = %e, "file upload step failed");
                refused("no answer from Slack".into())
            })?;
        if resp.status() != reqwest::StatusCode::TOO_MANY_REQUESTS
            || !tries.refused(retry_after(resp.headers()))
        {
            break resp;
        }
    };
    if resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(refused("ratelimited".into()));
    }
    if !resp.status().is_success() {
        return Err(refused(format!("HTTP {}", resp.status().as_u16())));
    }
    Ok(())
}
