//! The full target list in the approval message's thread, when the message itself can only
//! preview it: the approver must be able to see exactly whom they approve.

use serde_json::json;

use super::Service;
use crate::results::targets_file;
use crate::slack::escape::code;
use crate::slack::outbound::Message;
use crate::slack::render::{approval_is_partial, PREVIEW};
use crate::store::{RequestRecord, TargetRecord};

impl Service {
    /// Uploads every target as CSV into the thread of `root_ts` when the approval message leaves
    /// something out (more users than its preview, or lines that did not fit in Slack's limits).
    /// If Slack refuses, the thread says so: the approver then knows the list is incomplete.
    pub(super) async fn attach_target_list(
        &self,
        r: &RequestRecord,
        targets: &[TargetRecord],
        root_ts: &str,
    ) {
        if !approval_is_partial(r, targets) {
            return;
        }
        let file = targets_file(r, targets);
        let comment = format!(
            "The full list of {} resolved user(s) for {}, with what will happen to each: {}",
            file.rows,
            r.id,
            code(&file.filename)
        );
        match self
            .slack
            .upload_file(r.channel_id.as_str(), root_ts, &file, &comment)
            .await
        {
            Ok(file_id) => {
                self.audit(
                    Some(r.id.as_str()),
                    None,
                    "target_list_attached",
                    json!({"file_id": file_id, "filename": file.filename, "rows": file.rows}),
                )
                .await;
            }
            Err(e) => {
                self.audit(
                    Some(r.id.as_str()),
                    None,
                    "target_list_not_attached",
                    json!({"why": e.to_string()}),
                )
                .await;
                let warning = format!(
                    "⚠️ The full list of {} user(s) could not be attached ({}: {}). The message above lists only the first {PREVIEW} of each kind: if you need to see everyone before approving, deny and ask for a new request.",
                    file.rows,
                    e.step,
                    code(&e.reason)
                );
                if let Err(e) = self
                    .slack
                    .post(
                        r.channel_id.as_str(),
                        Some(root_ts),
                        &Message::text(warning),
                    )
                    .await
                {
                    tracing::warn!(request = %r.id, error = %e, "could not post in the thread");
                }
            }
        }
    }
}
