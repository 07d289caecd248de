//! Reading a file someone shared (in a channel, or in the form): what Slack says it is, a
//! capped download, the CSV reader, and the limits — all before any Okta call.

use super::intake::UploadedFile;
use super::Service;
use crate::csv_input::{self, CsvError, MAX_FILE_BYTES};
use crate::slack::escape::{code, escape};
use crate::slack::outbound::DownloadError;
use crate::slack::render_file;

impl Service {
    /// The file `file_id`, read; or the sentence telling the person what to fix. Nothing is
    /// changed either way.
    pub(crate) async fn read_upload(&self, file_id: &str) -> Result<UploadedFile, String> {
        let info = self.slack.file_info(file_id).await.map_err(|e| {
            tracing::warn!(error = %e, "files.info failed");
            format!(
                "The file could not be looked up in Slack ({}). Nothing was changed; share it again, or ask an okta-reset administrator to check the app's `files:read` scope.",
                escape(&e.detail)
            )
        })?;
        let name = info.name.clone();
        csv_input::check_metadata(&name, info.filetype.as_deref(), info.mimetype.as_deref())
            .map_err(|e| e.explain(&name))?;
        let url = info.url_private_download.as_ref().ok_or_else(|| {
            format!(
                "Slack gave no download address for {}; share the file again as an upload, not a link.",
                code(&name)
            )
        })?;
        let bytes = self
            .slack
            .download(url, &self.config.slack.api_url, MAX_FILE_BYTES)
            .await
            .map_err(|e| match e {
                DownloadError::TooLarge(_) => CsvError::TooLarge.explain(&name),
                e => {
                    tracing::warn!(error = %e, "file download failed");
                    format!(
                        "{} could not be downloaded: {}. Nothing was changed.",
                        code(&name),
                        escape(&e.to_string())
                    )
                }
            })?;
        let read = csv_input::read(&bytes).map_err(|e| e.explain(&name))?;
        let max = self.policy.max_targets;
        if read.targets.len() > max {
            return Err(format!(
                "{} lists {} users, more than the limit of {max}. Split it, or ask an administrator to raise `policy.max_targets`.",
                code(&name),
                read.targets.len()
            ));
        }
        if read.targets.is_empty() {
            return Err(format!(
                "None of the {} row(s) of {} can be used: {}. Nothing was posted or changed.",
                read.rows,
                code(&name),
                render_file::row_errors(&read.errors)
            ));
        }
        Ok(UploadedFile { name, read })
    }
}
