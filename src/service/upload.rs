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
            .map_err(|e| file_refusal(&e, &name))?;
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
                DownloadError::TooLarge(_) => file_refusal(&CsvError::TooLarge, &name),
                e => {
                    tracing::warn!(error = %e, "file download failed");
                    format!(
                        "{} could not be downloaded: {}. Nothing was changed.",
                        code(&name),
                        escape(&e.to_string())
                    )
                }
            })?;
        let read = csv_input::read(&bytes).map_err(|e| file_refusal(&e, &name))?;
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

/// Why the file `file_name` cannot be used, as the sentence shown to the person who shared it:
/// what is wrong and what to do. The CSV reader only says what it found; the words are here.
fn file_refusal(e: &CsvError, file_name: &str) -> String {
    let name = code(file_name);
    match e {
        CsvError::NotCsv(kind) => format!(
            "{name} is {}, not a CSV file: save it as CSV (in a spreadsheet: File → Save As → “CSV UTF-8”) and share that file instead.",
            kind.noun()
        ),
        CsvError::Utf16 => format!(
            "{name} is saved as UTF-16 text (Excel's “Unicode Text”): save it as CSV UTF-8 and share that file instead."
        ),
        CsvError::TooLarge => format!(
            "{name} is larger than {} MiB, the most the bot reads: split it into smaller files.",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
        CsvError::NoColumn { first_row } => format!(
            "{name} has no column the bot can use (its first row is {}). Head a column `login`, `email` or `id` (Rockstar's `User Id` and Okta reports' `Username` or `Primary email` work too), or list only logins, emails or Okta user ids, one per line, without a header.",
            first_row.iter().map(|c| code(c)).collect::<Vec<_>>().join(", ")
        ),
        CsvError::NoRows => format!("{name} has no rows to read: it is empty or has only a header."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csv_input::{read, NotCsv};

    #[test]
    fn a_file_without_a_usable_column_is_refused_with_its_first_row() {
        let e = read(b"Name,Department\nDana Lee,IT\n").unwrap_err();
        assert_eq!(
            file_refusal(&e, "people.csv"),
            "`people.csv` has no column the bot can use (its first row is `Name`, `Department`). Head a column `login`, `email` or `id` (Rockstar's `User Id` and Okta reports' `Username` or `Primary email` work too), or list only logins, emails or Okta user ids, one per line, without a header."
        );
    }

    #[test]
    fn more_than_the_cap_is_refused() {
        assert_eq!(
            file_refusal(&CsvError::TooLarge, "big.csv"),
            "`big.csv` is larger than 5 MiB, the most the bot reads: split it into smaller files."
        );
    }

    #[test]
    fn explanations_escape_the_file_name_and_say_save_as_csv() {
        let m = file_refusal(&CsvError::NotCsv(NotCsv::Spreadsheet), "<!channel>.xlsx");
        assert_eq!(
            m,
            "`&lt;!channel&gt;.xlsx` is a spreadsheet (Excel, Numbers or OpenDocument), not a CSV file: save it as CSV (in a spreadsheet: File → Save As → “CSV UTF-8”) and share that file instead."
        );
        let m = file_refusal(&CsvError::NotCsv(NotCsv::Image), "photo.png");
        assert!(
            m.contains("is an image, not a CSV file: save it as CSV"),
            "{m}"
        );
    }
}
