//! The request form: `/okta-reset` alone opens it; its submission is checked field by field
//! (errors go back into the form, next to the field) and then takes the same path as a slash
//! command.

use std::sync::Arc;

use tokio::sync::oneshot;

use super::intake::Intake;
use super::limits;
use super::slash::SlashCommand;
use super::Service;
use crate::domain::command::USAGE;
use crate::slack::escape::{code, escape};
use crate::slack::modal::{self, FieldErrors, Submission};

impl Service {
    /// Opens the form with the command's `trigger_id`. Returns the ephemeral answer: empty when
    /// the form opened (Slack then shows nothing else).
    pub(crate) async fn open_form(&self, cmd: &SlashCommand) -> String {
        if let Err(refusal) = self
            .check_requester_at(&cmd.team, &cmd.channel, &cmd.user)
            .await
        {
            return refusal;
        }
        let view = modal::request_form(&cmd.channel, self.policy.require_reason);
        match self.slack.views_open(&cmd.trigger_id, view).await {
            Ok(()) => String::new(),
            Err(e) => {
                tracing::warn!(error = %e, "views.open failed");
                format!(
                    "The request form could not be opened ({}). Type the request instead:\n\n{USAGE}",
                    escape(&e.detail)
                )
            }
        }
    }

    /// A submitted form. Its outcome goes to `answer` while Slack still waits for the HTTP
    /// response (errors then show in the form); once Slack stopped waiting, errors are sent
    /// to the person as an ephemeral message instead.
    pub async fn on_form(
        self: &Arc<Self>,
        sub: Submission,
        answer: oneshot::Sender<Result<(), FieldErrors>>,
    ) {
        let outcome = self.submit_form(&sub).await;
        if let Err(Err(errors)) = answer.send(outcome) {
            let text = errors
                .iter()
                .map(|(_, m)| m.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            self.tell(
                sub.channel.as_str(),
                sub.user.as_str(),
                None,
                &format!("Your request was not made: {text}"),
            )
            .await;
        }
    }

    async fn submit_form(self: &Arc<Self>, sub: &Submission) -> Result<(), FieldErrors> {
        let team = sub.team.clone().unwrap_or_else(|| self.policy.team.clone());
        self.check_requester_at(&team, &sub.channel, &sub.user)
            .await
            .map_err(|r| vec![(modal::KIND, r)])?;
        let req = modal::to_request(sub)?;
        // The policy's sentence speaks of typing `reason:"…"`; the form has a field for it.
        self.check_reason_of(&sub.channel, &sub.user, req.spec.reason.as_deref())
            .await
            .map_err(|_| {
                vec![(
                    modal::REASON,
                    "A reason is required: give one, for example an incident number.".into(),
                )]
            })?;
        // Before the file is downloaded; the form shows text as is, so the time is in UTC.
        self.check_limits_at(&sub.channel, &sub.user, req.spec.dry_run, limits::IN_FORMS)
            .await
            .map_err(|r| vec![(modal::KIND, r)])?;
        let file = match &req.file {
            None => None,
            Some(id) => match self.read_upload(id).await {
                Ok(f) => Some(f),
                Err(why) => {
                    self.refused(&sub.channel, &sub.user, &why).await;
                    return Err(vec![(modal::FILE, why)]);
                }
            },
        };
        let note = file
            .as_ref()
            .map(|f| format!(" ({} row(s) from {})", f.read.rows, code(&f.name)))
            .unwrap_or_default();
        let id = self.start(Intake {
            team,
            channel: sub.channel.clone(),
            user: sub.user.clone(),
            spec: req.spec,
            file,
            raw_text: None,
        });
        self.tell(
            sub.channel.as_str(),
            sub.user.as_str(),
            None,
            &format!("Looking up the targets in Okta for request {id}{note}…"),
        )
        .await;
        Ok(())
    }
}
