//! `/okta-reset …`: answer at once (within Slack's 3 s), resolve and post in the background.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;

use super::groups::Role;
use super::intake::Intake;
use super::limits;
use super::resolve::{resolve_with_file, ResolveSettings};
use super::Service;
use crate::domain::command::{self, Command, ResetSpec, USAGE};
use crate::domain::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};
use crate::domain::limits::Asking;
use crate::domain::policy::PolicyRefusal;
use crate::domain::request::State;
use crate::slack::escape::escape;
use crate::slack::outbound::Message;
use crate::slack::render;
use crate::store::{NewRequest, RequestRecord};

/// A slash command after its signature was checked and its IDs parsed.
#[derive(Debug, Clone)]
pub struct SlashCommand {
    pub team: SlackTeamId,
    pub channel: SlackChannelId,
    pub user: SlackUserId,
    pub text: String,
    /// Opens the request form; valid for 3 s, once. Empty when Slack sent none.
    pub trigger_id: String,
}

impl Service {
    /// Returns the ephemeral answer for the person who typed the command.
    pub async fn on_slash(self: &Arc<Self>, cmd: SlashCommand) -> String {
        if cmd.team != self.policy.team {
            return PolicyRefusal::WrongTeam.to_string();
        }
        let parsed = match command::parse(&cmd.text) {
            Ok(c) => c,
            Err(e) => return format!("{}\n\n{USAGE}", escape(&e.to_string())),
        };
        match parsed {
            Command::Help => USAGE.to_string(),
            Command::Form => self.open_form(&cmd).await,
            Command::Status(id) => self.status(&cmd, &id).await,
            Command::Cancel(id) => self.cancel(&cmd, &id).await,
            Command::Reset(spec) => self.accept_reset(cmd, spec).await,
        }
    }

    /// On either allowlist, by ID or through a user group that could be read.
    async fn is_admin(&self, user: &SlackUserId) -> bool {
        self.on_allowlist(user, Role::Requester).await
            || self.on_allowlist(user, Role::Approver).await
    }

    async fn status(&self, cmd: &SlashCommand, id: &RequestId) -> String {
        if !self.is_admin(&cmd.user).await {
            return "Only okta-reset requesters and approvers can look up requests.".into();
        }
        let r = match self.store.get_request(id.as_str()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "store read failed");
                return "The bot's store could not be read; try again shortly.".into();
            }
        };
        if let Err(refusal) = self.check_place(cmd, r.as_ref(), "status").await {
            return refusal;
        }
        let Some(r) = r else {
            return format!("There is no request {id}.");
        };
        let counts = self
            .store
            .outcome_counts(id.as_str())
            .await
            .unwrap_or_default();
        let counts = counts
            .iter()
            .map(|(o, n)| format!("{n} {o}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "*{}* in <#{}>: {}\nRequested by {} — {}\nTargets: {}",
            r.id,
            r.channel_id,
            render::status_line(&r, self.now()),
            render::mention(r.requester.as_str()),
            r.reason.as_deref().map(escape).unwrap_or_default(),
            counts
        )
    }

    /// `cancel` and `status` are taken in an okta-reset channel (`slack.channels`), in the
    /// request's own channel (its thread lives there, even if the channel has since left the
    /// list), or in the person's direct messages with the bot — places the bot's answers and the
    /// thread stay among the people who run it. Anywhere else the refusal is private and says
    /// nothing about the request, not even whether it exists.
    async fn check_place(
        &self,
        cmd: &SlashCommand,
        r: Option<&RequestRecord>,
        verb: &str,
    ) -> Result<(), String> {
        let here = cmd.channel.as_str();
        if self.policy.channels.iter().any(|c| c.as_str() == here)
            || r.is_some_and(|r| r.channel_id.as_str() == here)
        {
            return Ok(());
        }
        // Slash commands in a DM carry its `D…` id; only the bot's own DMs are visible to it.
        if here.starts_with('D') {
            match self.slack.is_dm_with_bot(here).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "conversations.info failed for a DM"),
            }
        }
        let channels = self
            .policy
            .channels
            .iter()
            .map(|c| format!("<#{}>", c.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        Err(format!(
            "`/okta-reset {verb}` works only in an okta-reset channel ({channels}) or in your direct messages with the bot. Nothing was looked up or changed."
        ))
    }

    /// The requester, or any approver, may cancel before or during the run; not a guest, bot,
    /// deactivated or Slack Connect account, nor an approver whose own account is a target.
    async fn cancel(self: &Arc<Self>, cmd: &SlashCommand, id: &RequestId) -> String {
        let r = match self.store.get_request(id.as_str()).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "store read failed");
                return "The bot's store could not be read; try again shortly.".into();
            }
        };
        if let Err(refusal) = self.check_place(cmd, r.as_ref(), "cancel").await {
            return refusal;
        }
        let Some(r) = r else {
            return format!("There is no request {id}.");
        };
        let user = cmd.user.as_str();
        if r.requester != cmd.user && !self.on_allowlist(&cmd.user, Role::Approver).await {
            return format!("Only the requester or an approver can cancel {id}.");
        }
        if let Err(refusal) = self.check_may_stop(&cmd.user, &r, "cancel").await {
            self.audit(
                Some(id.as_str()),
                Some(user),
                "cancel_refused",
                json!({"why": refusal}),
            )
            .await;
            return refusal;
        }
        if !matches!(
            r.state,
            State::PendingApproval | State::Approved | State::Running | State::Paused
        ) {
            return format!("{id} is {}, so it cannot be cancelled.", r.state);
        }
        let now = self.now();
        // Who cancelled is stored apart from the decision: a cancel after approval leaves the
        // approval as the decision (a cancel while pending is also its decision row).
        // The cancel and its audit event are written together, or neither is.
        let event = self.audit_event(
            Some(id.as_str()),
            Some(user),
            "cancelled",
            json!({"from_state": r.state.code()}),
        );
        match self
            .store
            .cancel(id.as_str(), r.state, user, now, &event)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return format!("{id} changed state meanwhile; check `/okta-reset status {id}`.")
            }
            Err(e) => {
                tracing::error!(error = %e, "store write failed");
                return format!("The bot's store could not record the cancel and its audit event, so nothing was cancelled: {id} goes on as before. Try again shortly.");
            }
        }
        self.cancel_flag(id.as_str()).store(true, Ordering::SeqCst);
        self.refresh_root(id.as_str()).await;
        let note = match r.state {
            State::Running => "the calls in flight finish; no further user is reset",
            State::Paused => "the run was paused after its canary; no further user is reset",
            _ => "nothing was reset",
        };
        self.say_in_thread(
            &r,
            &Message::text(format!(
                "🚫 Cancelled by {} {} — {note}.",
                render::mention(user),
                render::slack_date(now)
            )),
        )
        .await;
        if r.state == State::Paused {
            // No runner holds a paused run: the summary is posted from here, in the background
            // so the answer to the command is not held up by the upload.
            let (svc, r) = (self.clone(), r.clone());
            tokio::spawn(async move { svc.end_paused(&r).await });
        }
        format!("{id} is cancelled.")
    }

    /// Checks the requester, then resolves and posts in the background.
    async fn accept_reset(self: &Arc<Self>, cmd: SlashCommand, spec: ResetSpec) -> String {
        let groups = self.membership(&cmd.user, Role::Requester).await;
        if let Err(refusal) = self
            .policy
            .check_requester(&cmd.team, &cmd.channel, &cmd.user, &groups)
            .and_then(|_| self.policy.check_reason(spec.reason.as_deref()))
        {
            // Refused before it got an id: on record with exactly what was typed.
            self.audit(
                None,
                Some(cmd.user.as_str()),
                "request_refused",
                json!({
                    "channel": cmd.channel.as_str(),
                    "text": cmd.text,
                    "why": refusal.to_string(),
                }),
            )
            .await;
            return refusal.to_string();
        }
        self.audit_group_admission(None, &cmd.user, Role::Requester, &groups)
            .await;
        if let Err(refusal) = self
            .check_limits_at(&cmd.channel, &cmd.user, spec.dry_run, limits::IN_MESSAGES)
            .await
        {
            return refusal;
        }
        let id = self.start(Intake {
            team: cmd.team,
            channel: cmd.channel,
            user: cmd.user,
            spec,
            file: None,
            raw_text: Some(cmd.text),
        });
        format!("Looking up the targets in Okta for request {id}…")
    }

    /// Resolves, checks and posts any request, whatever door it came in by (see `intake`).
    pub(super) async fn prepare_request(self: Arc<Self>, req: Intake, id: RequestId) {
        let (channel, user) = (req.channel.as_str(), req.user.as_str());
        let spec = &req.spec;
        let command_text = req.command_text();
        // On record before Okta is asked anything: without it, nothing is looked up.
        let received = self
            .audit_first(
                Some(id.as_str()),
                Some(user),
                "request_received",
                json!({
                "team": req.team.as_str(),
                "channel": channel,
                "text": req.raw_text,
                "command": command_text,
                "reason": spec.reason,
                "dry_run": spec.dry_run,
                "revoke_sessions": spec.revoke_sessions,
                "contain": spec.contain,
                "file": req.file_detail(),
                }),
            )
            .await;
        if received.is_err() {
            self.tell(
                channel,
                user,
                None,
                &format!("Request {id} was not made: the bot's audit log could not be written, and nothing is done off the record. Nothing was looked up or changed; try again shortly."),
            )
            .await;
            return;
        }
        let refuse = |why: String| {
            let svc = self.clone();
            let id = id.clone();
            let (channel, user) = (channel.to_string(), user.to_string());
            async move {
                svc.audit(
                    Some(id.as_str()),
                    Some(&user),
                    "request_refused",
                    json!({"why": why}),
                )
                .await;
                svc.tell(
                    &channel,
                    &user,
                    None,
                    &format!("Request {id} was not made: {why}"),
                )
                .await;
            }
        };
        let me = match self.slack.user_info(user).await {
            Ok(u) => u,
            Err(e) => {
                tracing::warn!(error = %e, "users.info failed for the requester");
                refuse("your Slack profile could not be read, so your own account could not be excluded. Try again shortly.".into()).await;
                return;
            }
        };
        if me.deleted || me.is_bot || me.is_guest {
            refuse("guest, bot and deactivated Slack accounts cannot request resets.".into()).await;
            return;
        }
        if me
            .team_id
            .as_deref()
            .is_some_and(|t| t != self.policy.team.as_str())
        {
            refuse("people from another workspace (Slack Connect) cannot request resets.".into())
                .await;
            return;
        }
        // From here on the request reaches Okta: it counts towards the hour, whatever comes of it.
        if !self
            .reserve_lookup(id.as_str(), &req.channel, &req.user, spec.dry_run)
            .await
        {
            return;
        }
        let identities: Vec<String> = me.email.iter().map(|e| e.to_lowercase()).collect();
        let settings = ResolveSettings {
            max_targets: self.policy.max_targets,
            protected_groups: &self.config.policy.protected_groups,
            protected_logins: &self.config.policy.protected_logins,
            requester_identities: &identities,
            clock: self.clock.as_ref(),
        };
        // Targets are staged in the store page by page; refusals below discard them.
        let resolution = match resolve_with_file(
            self.okta.as_ref(),
            self.store.as_ref(),
            id.as_str(),
            &spec.targets,
            req.file_rows().as_ref(),
            settings,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                refuse(e.to_string()).await;
                return;
            }
        };
        if let Some(login) = resolution.requester_target.clone() {
            let _ = self.store.discard_staged(id.as_str()).await;
            refuse(escape(&PolicyRefusal::RequesterIsTarget(login).to_string())).await;
            return;
        }
        // From the limit check until the request is stored (see `limits`).
        let gate = match self.store.exclusive(limits::LIMITS_SECTION).await {
            Ok(g) => g,
            Err(e) => {
                tracing::error!(error = %e, "could not enter the limits section");
                let _ = self.store.discard_staged(id.as_str()).await;
                refuse("The bot's store could not be reached, so your request limits could not be checked. Nothing was changed; try again shortly.".into()).await;
                return;
            }
        };
        let asking = if spec.dry_run {
            Asking::DryRun
        } else {
            Asking::Resets(resolution.to_reset as u64)
        };
        let Some(gate) = self
            .check_limits_resolved(id.as_str(), &req.channel, &req.user, asking, gate)
            .await
        else {
            let _ = self.store.discard_staged(id.as_str()).await;
            return;
        };
        let now = self.now();
        let state = if spec.dry_run {
            State::DryRun
        } else {
            State::PendingApproval
        };
        let new = NewRequest {
            id: id.clone(),
            team_id: req.team.clone(),
            channel_id: req.channel.clone(),
            requester: req.user.clone(),
            command_text,
            reason: spec.reason.clone(),
            dry_run: spec.dry_run,
            revoke_sessions: spec.revoke_sessions,
            contain: spec.contain,
            state,
            digest: resolution.digest.clone(),
            resolved_count: resolution.distinct as i64,
            reset_count: resolution.to_reset as i64,
            created_at: now,
            expires_at: now + self.config.policy.approval_ttl_minutes * 60_000,
        };
        // On record before the request exists: no request without its audit event.
        let resolved = self
            .audit_first(
                Some(id.as_str()),
                Some(user),
                "targets_resolved",
                json!({
                    "resolved": resolution.distinct,
                    "to_reset": resolution.to_reset,
                    "by_classification": resolution
                        .counts
                        .iter()
                        .map(|(c, n)| (c.code(), *n))
                        .collect::<std::collections::BTreeMap<_, _>>(),
                    "digest": resolution.digest,
                }),
            )
            .await;
        if resolved.is_err() {
            drop(gate);
            let _ = self.store.discard_staged(id.as_str()).await;
            refuse("the bot's audit log could not be written, and nothing is done off the record. Nothing was posted or changed; try again shortly.".into())
                .await;
            return;
        }
        let created = self.store.create_request_from_staged(&new).await;
        drop(gate);
        if let Err(e) = created {
            tracing::error!(error = %e, "could not store the request");
            let _ = self.store.discard_staged(id.as_str()).await;
            refuse("the bot's store could not be written. Nothing was posted or changed.".into())
                .await;
            return;
        }
        let (Ok(Some(record)), Ok(targets)) = (
            self.store.get_request(id.as_str()).await,
            self.store.targets(id.as_str()).await,
        ) else {
            refuse("the bot's store could not be read back.".into()).await;
            return;
        };
        let sign_offs = self.sign_offs_for(&record).await;
        let msg = render::approval_with(&record, &targets, &sign_offs, now);
        match self.slack.post(channel, None, &msg).await {
            Ok(ts) => {
                if let Err(e) = self.store.set_root_ts(id.as_str(), &ts).await {
                    tracing::error!(error = %e, "could not store the root message ts");
                }
                self.audit(
                    Some(id.as_str()),
                    None,
                    "approval_posted",
                    json!({"channel": channel, "ts": ts, "dry_run": spec.dry_run}),
                )
                .await;
                self.attach_target_list(&record, &targets, &ts).await;
            }
            Err(e) => {
                tracing::error!(error = %e, "could not post the approval message");
                let _ = self
                    .store
                    .transition(id.as_str(), state, State::Cancelled, None, now)
                    .await;
                refuse("the approval message could not be posted in this channel (is the bot a member?). The request was withdrawn.".into()).await;
            }
        }
    }
}
