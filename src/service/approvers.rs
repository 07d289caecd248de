//! Who may sign a request off, and the two-approver rule (`policy.two_approvers_above`): the
//! checks an Approve and a Continue share, the first of two approvals, and the approval message's
//! view of who has signed so far.

use std::sync::Arc;

use serde_json::json;

use super::decide::Action;
use super::Service;
use crate::domain::approvals::{approval_step, approvals_required, ApprovalStep};
use crate::domain::ids::{SlackTeamId, SlackUserId};
use crate::slack::outbound::Message;
use crate::slack::render::{self, SignOffs};
use crate::store::{ApprovalAdded, Exclusive, RequestRecord, SignOffKind};

fn store_down(e: crate::store::StoreError) -> String {
    tracing::error!(error = %e, "store failed during a sign-off");
    "The bot's store could not be reached; nothing was decided. Try again shortly.".to_string()
}

impl Service {
    /// The cheap checks on the person who clicks Approve or Continue, before any Okta lookup
    /// (Slack only for approver groups, cached): on the approver list and not the requester.
    /// Returns the workspace and the requester, for `check_eligible_approver`.
    pub(super) async fn check_listed_approver(
        &self,
        a: &Action,
        r: &RequestRecord,
    ) -> Result<(SlackTeamId, SlackUserId), String> {
        let team = a.team.clone().unwrap_or_else(|| self.policy.team.clone());
        let requester = SlackUserId::parse(r.requester.as_str()).map_err(|e| e.to_string())?;
        let groups = self
            .membership(&a.user, super::groups::Role::Approver)
            .await;
        self.policy
            .check_approver(&team, &a.user, &requester, false, &groups)
            .map_err(|e| e.to_string())?;
        Ok((team, requester))
    }

    /// Every check on the person who clicks Approve or Continue, on Slack user IDs: on the
    /// approver list, not the requester, not a guest, bot or deactivated account, not from
    /// another workspace, and their own Okta account not among the users to reset.
    pub(super) async fn check_eligible_approver(
        &self,
        a: &Action,
        team: &SlackTeamId,
        requester: &SlackUserId,
    ) -> Result<(), String> {
        let id = a.request.as_str();
        let identities = self.check_identity(&a.user, "approve").await?;
        let is_target = self
            .store
            .resets_identity(id, &identities)
            .await
            .map_err(store_down)?;
        // Approvers listed through a Slack user group: membership read (cached briefly).
        let groups = self
            .membership(&a.user, super::groups::Role::Approver)
            .await;
        self.policy
            .check_approver(team, &a.user, requester, is_target, &groups)
            .map_err(|e| e.to_string())?;
        self.audit_group_admission(Some(id), &a.user, super::groups::Role::Approver, &groups)
            .await;
        Ok(())
    }

    /// The checks on whoever stops a request (Deny, `/okta-reset cancel`) beyond the allowlist:
    /// the account itself (`check_identity`), and — unless they asked for it — their own Okta
    /// account not among the users to reset. A person whose account is on the list must not be
    /// the one to stop its reset: a phished approver's Slack session would otherwise deny or
    /// cancel the very reset meant to lock its attacker out. `verb` is what they tried ("deny").
    pub(super) async fn check_may_stop(
        &self,
        user: &SlackUserId,
        r: &RequestRecord,
        verb: &str,
    ) -> Result<(), String> {
        let identities = self.check_identity(user, verb).await?;
        if r.requester == *user {
            return Ok(());
        }
        if self
            .store
            .resets_identity(r.id.as_str(), &identities)
            .await
            .map_err(store_down)?
        {
            return Err(format!(
                "Your own Okta account is among the users to reset, so you can't {verb} {}: another approver or the requester must.",
                r.id
            ));
        }
        Ok(())
    }

    /// The Slack account behind a click or a command, from `users.info`: guests, bots,
    /// deactivated accounts and people from another workspace (Slack Connect) are refused, for
    /// every action on a request (approve, deny, continue, cancel), listed or not. Returns the
    /// person's lower-case email, to keep them out of their own targets.
    pub(super) async fn check_identity(
        &self,
        user: &SlackUserId,
        verb: &str,
    ) -> Result<Vec<String>, String> {
        let me = self.slack.user_info(user.as_str()).await.map_err(|e| {
            tracing::warn!(error = %e, "users.info failed for an approver or canceller");
            format!("Your Slack profile could not be read, so the bot cannot check that you may {verb} this request. Nothing changed; try again shortly.")
        })?;
        if me.deleted || me.is_bot || me.is_guest {
            return Err(format!(
                "Guest, bot and deactivated Slack accounts cannot {verb}."
            ));
        }
        if me
            .team_id
            .as_deref()
            .is_some_and(|t| t != self.policy.team.as_str())
        {
            return Err(format!(
                "People from another workspace (Slack Connect) cannot {verb}."
            ));
        }
        Ok(me.email.iter().map(|e| e.to_lowercase()).collect())
    }

    /// Approvals this request needs under the policy in force now.
    pub(super) fn approvals_required(&self, r: &RequestRecord) -> usize {
        approvals_required(
            r.reset_count.max(0) as usize,
            self.config.policy.two_approvers_above,
        )
    }

    /// For a request that needs two approvals: records this eligible approver's approval and
    /// says whether the count is now complete (the caller then makes the request approved, with
    /// the store's compare-and-set). A first approval is announced here and leaves the request
    /// pending; the same approver twice is refused and changes nothing. One-approver requests
    /// record nothing here and are complete at once.
    /// `cap` (the limits section, see `limits`) is let go before a first approval is announced:
    /// Slack's pacing must not hold every other request and approval in the org.
    pub(super) async fn count_approval(
        self: &Arc<Self>,
        a: &Action,
        r: &RequestRecord,
        now: i64,
        cap: &mut Option<Exclusive>,
    ) -> Result<bool, String> {
        let need = self.approvals_required(r);
        if need <= 1 {
            return Ok(true);
        }
        let id = a.request.as_str();
        // The approval and its audit event are written together, or neither is.
        let event = |have: usize| {
            self.audit_event(
                Some(id),
                Some(a.user.as_str()),
                "approval_recorded",
                json!({"approvals": have, "needed": need, "digest": r.digest}),
            )
        };
        let approvers = match self
            .store
            .add_approval(id, a.user.as_str(), now, &event)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "store failed during a sign-off");
                format!("The bot's store could not record your approval and its audit event, so nothing was decided: {id} is still waiting. Try again shortly.")
            })?
        {
            ApprovalAdded::Added(approvers) => approvers,
            ApprovalAdded::AlreadyApproved => {
                // This approval completed the count before, but the decision was not stored
                // (the store failed in between): the retry goes on to make it.
                let recorded = self.store.sign_offs(id).await.map_err(store_down)?;
                let approvals = recorded
                    .iter()
                    .filter(|s| s.kind == SignOffKind::Approve)
                    .count();
                if approvals >= need {
                    return Ok(true);
                }
                return Err(format!(
                    "You have already approved {id}. It needs {need} approvals from different approvers, so another approver must approve; nothing changed."
                ));
            }
            ApprovalAdded::NotPending => {
                let state = match self.store.get_request(id).await {
                    Ok(Some(now)) => now.state.to_string(),
                    _ => "decided".into(),
                };
                return Err(format!("{id} is {state} meanwhile; nothing changed."));
            }
        };
        match approval_step(approvers.len(), need) {
            ApprovalStep::Complete => Ok(true),
            ApprovalStep::Recorded { have, need } => {
                drop(cap.take());
                self.refresh_root(id).await;
                let missing = need - have;
                self.say_in_thread(
                    r,
                    &Message::text(format!(
                        "☑️ {have} of {need} approvals: {} {}; {} must approve before the run starts.",
                        render::mention(a.user.as_str()),
                        render::slack_date(now),
                        if missing == 1 {
                            "another approver".to_string()
                        } else {
                            format!("{missing} more approvers")
                        }
                    )),
                )
                .await;
                Ok(false)
            }
        }
    }

    /// The approvers of an approved request as mentions: every recorded approval, or the one
    /// who decided (`decider`) when none were recorded (a one-approver request).
    pub(crate) async fn approved_by(&self, id: &str, decider: &str) -> String {
        let view = self.sign_offs_of(id, 1).await;
        if view.approvers.len() > 1 {
            render::mentions(&view.approvers)
        } else {
            render::mention(decider)
        }
    }

    /// What the approval message shows about sign-offs. A store error shows none (the message
    /// is re-rendered at the next change) rather than no message.
    pub(super) async fn sign_offs_of(&self, id: &str, required: usize) -> SignOffs {
        let rows = match self.store.sign_offs(id).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(request = id, error = %e, "could not read the sign-offs");
                Vec::new()
            }
        };
        SignOffs {
            required,
            approvers: rows
                .iter()
                .filter(|s| s.kind == SignOffKind::Approve)
                .map(|s| s.actor.to_string())
                .collect(),
            continued_by: rows
                .iter()
                .find(|s| s.kind == SignOffKind::Continue)
                .map(|s| s.actor.to_string()),
        }
    }

    /// The sign-off view of a request with the approvals it needs now.
    pub(crate) async fn sign_offs_for(&self, r: &RequestRecord) -> SignOffs {
        self.sign_offs_of(r.id.as_str(), self.approvals_required(r))
            .await
    }
}
