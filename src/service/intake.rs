//! One way into a reset request, whatever the door — a slash command, a file shared with a
//! mention, the form: the same requester checks, then `prepare_request` (Okta resolution,
//! self-target check, store, approval message), then the same approval, run and summary.

use std::sync::Arc;

use serde_json::json;

use super::groups::Role;
use super::resolve::FileRows;
use super::Service;
use crate::csv_input::CsvTargets;
use crate::domain::command::ResetSpec;
use crate::domain::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};

/// Staged targets older than this are a dead process's leftovers (6 hours: far longer than the
/// resolution of any group, even one of 100,000 members paced at a low rate limit).
const STAGED_MAX_AGE_MS: i64 = 6 * 60 * 60 * 1000;

/// A reset request as asked, before anything was resolved.
#[derive(Debug, Clone)]
pub struct Intake {
    pub team: SlackTeamId,
    pub channel: SlackChannelId,
    pub user: SlackUserId,
    /// Typed or chosen targets (may be empty when a file names them) and the options.
    pub spec: ResetSpec,
    pub file: Option<UploadedFile>,
    /// Exactly what the person typed (the slash command's or the mention's text), for the audit
    /// log; `None` for the form, which has no text.
    pub raw_text: Option<String>,
}

/// A shared file, read.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub name: String,
    pub read: CsvTargets,
}

impl Intake {
    /// The canonical form of what was asked, stored and shown to the approver:
    /// `file:"users.csv" reason:"INC-88" --revoke-sessions`.
    pub fn command_text(&self) -> String {
        let spec = self.spec.to_string();
        match &self.file {
            None => spec,
            Some(f) => {
                let name = f.name.replace('"', "'");
                let file = if name.contains(char::is_whitespace) {
                    format!("file:\"{name}\"")
                } else {
                    format!("file:{name}")
                };
                [file, spec]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        }
    }

    pub fn file_rows(&self) -> Option<FileRows<'_>> {
        self.file.as_ref().map(|f| FileRows {
            file: &f.name,
            rows: &f.read.targets,
            errors: &f.read.errors,
        })
    }

    /// For the audit log: the file's name, layout and row counts.
    pub fn file_detail(&self) -> serde_json::Value {
        match &self.file {
            None => serde_json::Value::Null,
            Some(f) => json!({
                "name": f.name,
                "layout": f.read.layout.describe(),
                "rows": f.read.rows,
                "usable": f.read.targets.len(),
                "unusable": f.read.errors.len(),
            }),
        }
    }
}

impl Service {
    /// Workspace, channel and requester allowlist; a refusal is audited and returned as the
    /// sentence to show.
    pub(crate) async fn check_requester_at(
        &self,
        team: &SlackTeamId,
        channel: &SlackChannelId,
        user: &SlackUserId,
    ) -> Result<(), String> {
        // Members of the requester groups are read only for someone not listed by ID.
        let groups = self.membership(user, Role::Requester).await;
        let refusal = match self.policy.check_requester(team, channel, user, &groups) {
            Ok(()) => {
                self.audit_group_admission(None, user, Role::Requester, &groups)
                    .await;
                return Ok(());
            }
            Err(r) => r.to_string(),
        };
        self.refused(channel, user, &refusal).await;
        Err(refusal)
    }

    /// The reason, when policy requires one.
    pub(crate) async fn check_reason_of(
        &self,
        channel: &SlackChannelId,
        user: &SlackUserId,
        reason: Option<&str>,
    ) -> Result<(), String> {
        let refusal = match self.policy.check_reason(reason) {
            Ok(()) => return Ok(()),
            Err(r) => r.to_string(),
        };
        self.refused(channel, user, &refusal).await;
        Err(refusal)
    }

    /// Audits a request refused before it got an id.
    pub(crate) async fn refused(&self, channel: &SlackChannelId, user: &SlackUserId, why: &str) {
        self.audit(
            None,
            Some(user.as_str()),
            "request_refused",
            json!({"channel": channel.as_str(), "why": why}),
        )
        .await;
    }

    /// Gives an accepted request its id and prepares it in the background.
    pub(crate) fn start(self: &Arc<Self>, intake: Intake) -> RequestId {
        let id = RequestId::generate(&mut rand::thread_rng());
        let svc = self.clone();
        let id2 = id.clone();
        // Every Okta call made for this request names it in its User-Agent (System Log).
        tokio::spawn(crate::okta::client::for_request(
            id.to_string(),
            svc.prepare_request(intake, id2),
        ));
        id
    }

    /// Deletes targets staged by a resolution that never finished (its process died): no
    /// resolution runs for `STAGED_MAX_AGE_MS`, even of a huge group paced at a small limit.
    pub async fn forget_abandoned_staging(&self) {
        match self
            .store
            .discard_staged_before(self.now() - STAGED_MAX_AGE_MS)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "deleted targets staged by resolutions that died"),
            Err(e) => tracing::warn!(error = %e, "could not sweep abandoned staged targets"),
        }
    }
}
