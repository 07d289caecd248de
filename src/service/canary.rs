//! Continue after a canary (`policy.canary_users`): the run paused after its first N users; an
//! eligible approver checks them and clicks Continue, and the runner carries on from the journal.
//! A paused run is state in the store: it survives a restart, never continues by itself and never
//! expires (a person must look first); `/okta-reset cancel` ends it there.

use std::sync::Arc;

use serde_json::json;

use super::decide::Action;
use super::Service;
use crate::domain::request::{transition, Event, State};
use crate::slack::outbound::Message;
use crate::slack::render::{self, Progress};
use crate::store::{Outcome, RequestRecord};

impl Service {
    /// A Continue click: the same checks as an Approve, then the store moves the run from
    /// `paused` back to `approved` only if it is still paused (two clicks, two replicas: one
    /// wins), and the runner takes it up again.
    pub(super) async fn continue_after_canary(self: &Arc<Self>, a: &Action) -> Result<(), String> {
        let id = a.request.as_str();
        let r = self
            .store
            .get_request(id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "store failed during a Continue");
                "The bot's store could not be reached; nothing changed. Try again shortly."
                    .to_string()
            })?
            .ok_or_else(|| format!("There is no request {id}."))?;
        // Only on the message that carries the Continue button (runs paused before it was
        // recorded show it on the progress message).
        let carrier = r.continue_ts.as_deref().or(r.progress_ts.as_deref());
        self.check_clicked_message(a, &r, carrier, "message with the Continue button")?;
        // Cheap refusals first: no Okta lookup (Slack only for approver groups, cached).
        let (team, requester) = self.check_listed_approver(a, &r).await?;
        let now = self.now();
        if transition(r.state, Event::Continue, now, r.expires_at).is_err() {
            return Err(format!(
                "{id} is {}, so there is no paused run to continue; nothing changed.",
                r.state
            ));
        }
        self.check_eligible_approver(a, &team, &requester).await?;
        // Continuing puts the run back among the runs in progress: the same cap as Approve.
        let cap = self.check_runs_cap(&r).await?;
        // `policy.step_up`: nothing is recorded until Okta confirms the approver.
        if self.step_up_first(a, &r).await? {
            return Ok(());
        }
        // The Continue and its audit event are written together, or neither is.
        let p = self.progress_now(&r).await;
        let event = self.audit_event(
            Some(id),
            Some(a.user.as_str()),
            "run_continued",
            json!({"done": p.done, "reset": p.reset, "failed": p.failed, "remaining": p.total.saturating_sub(p.done)}),
        );
        let won = self
            .store
            .continue_run(id, a.user.as_str(), now, &event)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "store failed during a Continue");
                format!("The bot's store could not record your Continue and its audit event, so nothing changed: {id} stays paused. Try again shortly.")
            })?;
        drop(cap);
        if !won {
            let state = match self.store.get_request(id).await {
                Ok(Some(again)) => again.state.to_string(),
                _ => "no longer paused".into(),
            };
            return Err(format!(
                "{id} is {state} meanwhile (someone else continued or cancelled it); nothing changed."
            ));
        }
        self.show_progress(&r, &p).await;
        self.refresh_root(id).await;
        self.say_in_thread(
            &r,
            &Message::text(format!(
                "▶️ Continued by {} {} after the canary; the remaining {} user(s) follow.",
                render::mention(a.user.as_str()),
                render::slack_date(now),
                p.total.saturating_sub(p.done)
            )),
        )
        .await;
        self.enqueue_run(id);
        Ok(())
    }

    /// The run's progress from the journal.
    pub(crate) async fn progress_now(&self, r: &RequestRecord) -> Progress {
        let counts = self
            .store
            .outcome_counts(r.id.as_str())
            .await
            .unwrap_or_default();
        let n = |o: Outcome| {
            counts
                .iter()
                .find(|(k, _)| *k == o)
                .map(|(_, v)| *v as usize)
                .unwrap_or(0)
        };
        let (reset, failed) = (n(Outcome::Reset), n(Outcome::Failed));
        Progress {
            done: reset + failed,
            total: r.reset_count.max(0) as usize,
            reset,
            failed,
        }
    }

    /// Puts the plain progress back in the progress message (removing a Continue button).
    pub(crate) async fn show_progress(&self, r: &RequestRecord, p: &Progress) {
        let Ok(Some(now)) = self.store.get_request(r.id.as_str()).await else {
            return;
        };
        if let Some(ts) = &now.progress_ts {
            if let Err(e) = self
                .slack
                .update(r.channel_id.as_str(), ts, &render::progress(p, self.now()))
                .await
            {
                tracing::warn!(request = %r.id, error = %e, "could not update the progress message");
            }
        }
    }

    /// After a paused run was cancelled: the progress message loses its button and the summary
    /// is posted (no runner holds the run: the runner side posts it, under the run's lease like
    /// the sweep, so the two never both post it).
    pub(crate) async fn end_paused(self: &Arc<Self>, r: &RequestRecord) {
        debug_assert_eq!(r.state, State::Paused);
        let p = self.progress_now(r).await;
        self.show_progress(r, &p).await;
        self.enqueue_summary_after_pause(r.id.as_str());
    }
}
