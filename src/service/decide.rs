//! Approve / Deny clicks. Eligibility is checked on Slack user IDs; the store applies a decision
//! only if the request is still pending, so a second click (or a second approver) changes nothing.

use std::sync::Arc;

use serde_json::json;

use super::Service;
use crate::domain::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};
use crate::domain::request::{transition, Event, Refusal, State};
use crate::slack::render;
use crate::store::{Decision as StoredDecision, DecisionKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
    /// Continue a run paused after its canary (see `canary.rs`).
    Continue,
    /// "I didn't expect this" on a reset person's DM (see `unexpected.rs`): decides nothing.
    Unexpected,
}

/// A button click after its signature was checked and its IDs parsed.
#[derive(Debug, Clone)]
pub struct Action {
    /// `None` for org-wide installs, where Slack sends `team: null`.
    pub team: Option<SlackTeamId>,
    pub user: SlackUserId,
    pub channel: SlackChannelId,
    pub decision: Decision,
    pub request: RequestId,
    /// The clicked message: the request's root (the buttons exist nowhere else).
    pub message_ts: Option<String>,
}

impl Service {
    pub async fn on_action(self: &Arc<Self>, a: Action) {
        let done = match a.decision {
            Decision::Continue => self.continue_after_canary(&a).await,
            Decision::Approve | Decision::Deny => self.decide(&a).await,
            Decision::Unexpected => return self.on_unexpected(&a).await,
        };
        if let Err(why) = done {
            let action = match a.decision {
                Decision::Continue => "continue_refused",
                Decision::Approve | Decision::Deny | Decision::Unexpected => "decision_refused",
            };
            self.audit(
                Some(a.request.as_str()),
                Some(a.user.as_str()),
                action,
                json!({"why": why}),
            )
            .await;
            self.tell(a.channel.as_str(), a.user.as_str(), None, &why)
                .await;
        }
    }

    /// Applies the decision, or returns the sentence to tell the clicker.
    pub(super) async fn decide(self: &Arc<Self>, a: &Action) -> Result<(), String> {
        let id = a.request.as_str();
        let store_down = |e: crate::store::StoreError| {
            tracing::error!(error = %e, "store failed during a decision");
            "The bot's store could not be reached; nothing was decided. Try again shortly."
                .to_string()
        };
        let r = self
            .store
            .get_request(id)
            .await
            .map_err(store_down)?
            .ok_or_else(|| format!("There is no request {id}."))?;
        // The button's value names the request; the click counts only on that request's own
        // approval message. Its ts is stored right after posting: a click in that moment waits
        // for it (`thread_root`) rather than trusting the clicked message.
        let root = self.thread_root(id, r.root_ts.as_deref()).await;
        self.check_clicked_message(a, &r, root.as_deref(), "approval message")?;
        // Cheap refusals first: no Okta lookup (Slack only for approver groups, cached).
        let (team, requester) = self.check_listed_approver(a, &r).await?;
        if a.decision == Decision::Deny {
            // Stopping a request takes the same account checks as approving it.
            self.check_may_stop(&a.user, &r, "deny").await?;
        }
        let now = self.now();
        let event = match a.decision {
            Decision::Approve => Event::Approve,
            Decision::Deny => Event::Deny,
            Decision::Continue => return Err(format!("{id}: use Continue on a paused run.")),
            Decision::Unexpected => return Err(format!("{id}: that button decides nothing.")),
        };
        let next = match transition(r.state, event, now, r.expires_at) {
            Ok(s) => s,
            Err(Refusal::Expired) => {
                self.expire(id).await;
                return Err(format!(
                    "{id} has expired; ask the requester to make a new request."
                ));
            }
            Err(Refusal::AlreadyDecided(_)) if r.decision.is_some() => {
                let d = r.decision.as_ref().expect("checked");
                return Err(format!(
                    "{id} was already {} by {}; nothing changed.",
                    d.decision,
                    render::mention(d.actor.as_str())
                ));
            }
            Err(refusal) => return Err(format!("{id}: {refusal}; nothing changed.")),
        };
        // The org-wide cap on runs in progress (`limits`), held until the approval is stored.
        // Checked before a first of two approvals is recorded too: a recorded approval that
        // could not take effect would leave its approver unable to approve again.
        let mut cap = None;
        if a.decision == Decision::Approve {
            self.check_eligible_approver(a, &team, &requester).await?;
            cap = Some(self.check_runs_cap(&r).await?);
            // `policy.step_up`: nothing is recorded until Okta confirms the approver.
            if self.step_up_first(a, &r).await? {
                return Ok(());
            }
            // Above `policy.two_approvers_above` the first approval is recorded and the request
            // stays pending; the approval that completes the count makes the decision below.
            if !self.count_approval(a, &r, now, &mut cap).await? {
                return Ok(());
            }
        }
        let decision = StoredDecision {
            decision: match a.decision {
                Decision::Approve | Decision::Continue => DecisionKind::Approved,
                Decision::Deny | Decision::Unexpected => DecisionKind::Denied,
            },
            actor: a.user.clone(),
            decided_at: now,
        };
        // The decision and its audit event are written together, or neither is.
        let event = self.audit_event(
            Some(id),
            Some(a.user.as_str()),
            decision.decision.code(),
            json!({"digest": r.digest, "to_reset": r.reset_count}),
        );
        let won = self
            .store
            .transition_audited(id, r.state, next, Some(&decision), now, &event)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "store failed during a decision");
                format!("The bot's store could not record your decision and its audit event, so nothing was decided: {id} is still waiting. Try again shortly.")
            })?;
        drop(cap);
        if !won {
            let again = self.store.get_request(id).await.ok().flatten();
            let who = again
                .and_then(|r| r.decision)
                .map(|d| format!("{} by {}", d.decision, render::mention(d.actor.as_str())))
                .unwrap_or_else(|| "decided".into());
            return Err(format!("{id} was already {who}; nothing changed."));
        }
        if next == State::Approved {
            // The run starts at once; it announces the approval in the thread itself, beside its
            // first resets, so neither waits for Slack's pacing of chat.postMessage/update.
            self.enqueue_run(id);
            self.refresh_root(id).await;
        } else {
            self.refresh_root(id).await;
            self.say_in_thread(
                &r,
                &crate::slack::outbound::Message::text(format!(
                    "⛔ Denied by {} {}. Nothing was reset.",
                    render::mention(a.user.as_str()),
                    render::slack_date(now)
                )),
            )
            .await;
        }
        Ok(())
    }

    /// Refuses a click that did not come from `expected` (the ts of the message the request's
    /// buttons were posted on) in the request's channel: a payload naming a request from another
    /// message or channel — crafted, or a stale copy — decides nothing.
    pub(super) fn check_clicked_message(
        &self,
        a: &Action,
        r: &crate::store::RequestRecord,
        expected: Option<&str>,
        what: &str,
    ) -> Result<(), String> {
        let here = a.channel == r.channel_id
            && expected.is_some_and(|ts| a.message_ts.as_deref() == Some(ts));
        if here {
            return Ok(());
        }
        Err(format!(
            "That button is not on {}'s {what}, so the click was not taken; nothing changed. Use the buttons on the request's own message in <#{}>.",
            r.id, r.channel_id
        ))
    }

    /// Marks a pending request whose time is up as expired (once) and says so in its message.
    pub async fn expire(&self, id: &str) {
        let now = self.now();
        let Ok(Some(r)) = self.store.get_request(id).await else {
            return;
        };
        if transition(r.state, Event::Expire, now, r.expires_at) != Ok(State::Expired) {
            return;
        }
        let event = self.audit_event(
            Some(id),
            None,
            "expired",
            json!({"expires_at": r.expires_at}),
        );
        if let Ok(true) = self
            .store
            .transition_audited(
                id,
                State::PendingApproval,
                State::Expired,
                None,
                now,
                &event,
            )
            .await
        {
            self.refresh_root(id).await;
            self.say_in_thread(
                &r,
                &crate::slack::outbound::Message::text(format!(
                    "⌛ Expired {} without a decision. Nothing was reset; make a new request if it is still needed.",
                    render::slack_date(r.expires_at)
                )),
            )
            .await;
        }
    }

    /// Expires every pending request whose time is up. Run periodically and at start-up.
    pub async fn expire_due(&self) {
        let now = self.now();
        match self
            .store
            .requests_in_states(&[State::PendingApproval])
            .await
        {
            Ok(pending) => {
                for r in pending.iter().filter(|r| r.expires_at <= now) {
                    self.expire(r.id.as_str()).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not list pending requests"),
        }
    }
}
