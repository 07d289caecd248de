//! Okta-confirmed approvals (`policy.step_up`): an Approve (each of two) or a Continue counts
//! only after Okta itself has confirmed the approver — a fresh sign-in (`okta_oidc`, see
//! `oidc.rs` and `web.rs`) or an Okta Verify push with number matching (`push.rs`). Deny and
//! cancel never need it: stopping is always safe.
//!
//! At the click the usual checks run first (listed approver, not the requester, not a target,
//! the runs cap); then, instead of recording, a confirmation bound to the request, its snapshot
//! digest, the approver's Slack id and Okta user id and the click time is stored (`step_ups`:
//! the callback may reach another replica). When Okta confirms, the same Approve / Continue
//! runs again under `CONFIRMED` and records exactly as a plain one does, re-checking everything
//! (the request may have been denied, cancelled or expired meanwhile).

pub mod identity;
pub mod oidc;
pub mod push;
pub mod web;

use std::sync::Arc;

use serde_json::{json, Value};

use super::decide::{Action, Decision};
use super::Service;
use crate::config::StepUpMode;
use crate::slack::outbound::Message;
use crate::slack::render;
use crate::store::{RequestRecord, StepUpRecord, StepUpState};

/// How long a confirmation link (and a push) may take from the click.
pub const LINK_TTL_MS: i64 = 5 * 60 * 1000;

/// What is being confirmed: the sign-off it stands for (stored as the same code).
pub use crate::domain::kinds::SignOffKind as Kind;

/// The sign-off a click asks to confirm; none for a Deny or an "I didn't expect this".
fn kind_of(d: Decision) -> Option<Kind> {
    match d {
        Decision::Approve => Some(Kind::Approve),
        Decision::Continue => Some(Kind::Continue),
        Decision::Deny | Decision::Unexpected => None,
    }
}

/// The confirmation an Approve / Continue is re-run under (see the module docs).
#[derive(Debug, Clone)]
struct Confirmed {
    request: String,
    user: String,
    kind: Kind,
}

tokio::task_local! {
    static CONFIRMED: Confirmed;
}

/// What Okta said when it confirmed, for the audit log and the messages.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub amr: Option<String>,
    /// Unix ms of the sign-in (oidc) or of the push's success.
    pub auth_time: i64,
    pub detail: Value,
}

impl Service {
    /// The one call an Approve or a Continue makes after its checks: `Ok(false)` to record it
    /// now (`policy.step_up = "none"`, or this is the confirmed re-run), `Ok(true)` when a
    /// confirmation was started instead (nothing recorded), or the refusal.
    pub(super) async fn step_up_first(
        self: &Arc<Self>,
        a: &Action,
        r: &RequestRecord,
    ) -> Result<bool, String> {
        let mode = self.config.policy.step_up;
        let Some(kind) = kind_of(a.decision) else {
            return Ok(false);
        };
        if mode == StepUpMode::None {
            return Ok(false);
        }
        let confirmed = CONFIRMED
            .try_with(|c| {
                c.request == a.request.as_str() && c.user == a.user.as_str() && c.kind == kind
            })
            .unwrap_or(false);
        if confirmed {
            return Ok(false);
        }
        if kind == Kind::Approve && self.already_signed(a).await {
            // Let the plain path say "you have already approved" without a trip to Okta.
            return Ok(false);
        }
        let account =
            identity::okta_account(self.slack.as_ref(), self.okta.as_ref(), a.user.as_str())
                .await?;
        let now = self.now();
        let rec = StepUpRecord {
            token_hash: String::new(),
            request_id: r.id.clone(),
            kind,
            method: mode.code().into(),
            digest: r.digest.clone(),
            slack_user: a.user.clone(),
            channel_id: a.channel.clone(),
            okta_user: account.id.clone(),
            okta_login: account.login.clone(),
            clicked_at: now,
            expires_at: now + LINK_TTL_MS,
            state: StepUpState::Issued,
            oidc_state_hash: None,
            nonce_hash: None,
            pkce_verifier: None,
            amr: None,
            auth_time: None,
        };
        match mode {
            StepUpMode::OktaOidc => self.offer_oidc_link(rec).await?,
            StepUpMode::OktaVerifyPush => self.start_push(rec).await?,
            StepUpMode::None => unreachable!("handled above"),
        }
        Ok(true)
    }

    async fn already_signed(&self, a: &Action) -> bool {
        self.store
            .sign_offs(a.request.as_str())
            .await
            .map(|s| {
                s.iter()
                    .any(|s| s.kind == Kind::Approve && s.actor == a.user)
            })
            .unwrap_or(false)
    }

    /// `okta_oidc` at the click: a single-use link, to the approver alone.
    async fn offer_oidc_link(&self, mut rec: StepUpRecord) -> Result<(), String> {
        let Some(base) = self.config.server.public_url.clone() else {
            return Err("The bot has no server.public_url, so Okta confirmation cannot start; nothing was recorded. Tell the bot's operator.".into());
        };
        let token = oidc::random_token();
        rec.token_hash = oidc::sha256_hex(token.as_bytes());
        rec.state = StepUpState::Issued;
        self.store
            .create_step_up(&rec, true, rec.clicked_at)
            .await
            .map_err(store_down)?;
        let link = format!("{}?t={token}", oidc::join(&base, "auth/okta/start"));
        let what = match rec.kind {
            Kind::Continue => "continuing",
            Kind::Approve => "approving",
        };
        let text = format!(
            "Confirm in Okta before {what} {}: sign in as {} (the link works once, for 5 minutes). Nothing is recorded until Okta confirms.",
            rec.request_id,
            crate::slack::escape::escape(&rec.okta_login)
        );
        let msg = web::link_message(&text, &link);
        self.slack
            .ephemeral(rec.channel_id.as_str(), rec.slack_user.as_str(), None, &msg)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "could not send the Okta confirmation link");
                "The Okta confirmation link could not be sent to you; nothing was recorded. Try again shortly.".to_string()
            })?;
        self.audit(
            Some(rec.request_id.as_str()),
            Some(rec.slack_user.as_str()),
            "step_up_started",
            json!({"method": rec.method, "kind": rec.kind, "okta_user": rec.okta_user, "digest": rec.digest}),
        )
        .await;
        Ok(())
    }

    /// Okta confirmed: re-runs the Approve / Continue under `CONFIRMED`, exactly as a plain
    /// click, after checking the snapshot is the one clicked on. Returns the page's sentence.
    pub(crate) async fn step_up_confirmed(
        self: &Arc<Self>,
        rec: &StepUpRecord,
        ev: Evidence,
    ) -> Result<String, String> {
        let r = self
            .store
            .get_request(rec.request_id.as_str())
            .await
            .map_err(store_down)?
            .ok_or_else(|| format!("There is no request {}.", rec.request_id))?;
        if r.digest != rec.digest {
            return Err(format!(
                "The users to reset in {} changed after you clicked; nothing was recorded. Look at the request again and click again.",
                r.id
            ));
        }
        let kind = rec.kind;
        let action = Action {
            team: None,
            user: rec.slack_user.clone(),
            channel: rec.channel_id.clone(),
            decision: match kind {
                Kind::Approve => Decision::Approve,
                Kind::Continue => Decision::Continue,
            },
            request: rec.request_id.clone(),
            // The click itself was checked against the request's own message before the
            // confirmation was started; the confirmed re-run acts on that same message.
            message_ts: match kind {
                Kind::Approve => r.root_ts.clone(),
                Kind::Continue => r.continue_ts.clone().or_else(|| r.progress_ts.clone()),
            },
        };
        let now = self.now();
        // Settled first, so the messages the re-run posts already show how it was confirmed.
        self.store
            .settle_step_up(
                &rec.token_hash,
                StepUpState::Confirmed,
                ev.amr.as_deref(),
                Some(ev.auth_time),
                now,
            )
            .await
            .map_err(store_down)?;
        let scope = Confirmed {
            request: rec.request_id.to_string(),
            user: rec.slack_user.to_string(),
            kind,
        };
        let svc = self.clone();
        let done = CONFIRMED
            .scope(scope, async move {
                match kind {
                    Kind::Approve => svc.decide(&action).await,
                    Kind::Continue => svc.continue_after_canary(&action).await,
                }
            })
            .await;
        if let Err(why) = done {
            let _ = self
                .store
                .settle_step_up(&rec.token_hash, StepUpState::Failed, None, None, now)
                .await;
            return Err(why);
        }
        let mut detail = ev.detail;
        detail["method"] = json!(rec.method);
        detail["kind"] = json!(rec.kind);
        detail["okta_user"] = json!(rec.okta_user);
        detail["digest"] = json!(rec.digest);
        self.audit(
            Some(r.id.as_str()),
            Some(rec.slack_user.as_str()),
            "step_up_confirmed",
            detail,
        )
        .await;
        let mut confirmed = rec.clone();
        confirmed.amr = ev.amr;
        confirmed.auth_time = Some(ev.auth_time);
        let line = format!(
            "🔐 {} by {} — {}",
            if kind == Kind::Continue {
                "Continued"
            } else {
                "Approved"
            },
            render::mention(rec.slack_user.as_str()),
            how_confirmed(&confirmed)
        );
        self.say_in_thread(&r, &Message::text(line)).await;
        Ok(match kind {
            Kind::Approve => format!(
                "Approved {} for {} users. You can close this tab.",
                r.id, r.reset_count
            ),
            Kind::Continue => format!("Continued {}. You can close this tab.", r.id),
        })
    }

    /// A confirmation that did not succeed: nothing was recorded. Settles it (when known),
    /// audits `step_up_failed` with the reason and tells the approver in Slack.
    /// `settle`: false when the confirmation may still be in use by its rightful holder (a
    /// replayed link or callback must not end the approver's own sign-in in progress).
    pub(crate) async fn step_up_failed(
        &self,
        rec: Option<&StepUpRecord>,
        settle: bool,
        reason: &str,
    ) {
        let now = self.now();
        if let Some(rec) = rec.filter(|_| settle) {
            if let Err(e) = self
                .store
                .settle_step_up(&rec.token_hash, StepUpState::Failed, None, None, now)
                .await
            {
                tracing::warn!(error = %e, "could not settle a failed step-up");
            }
        }
        self.audit(
            rec.map(|r| r.request_id.as_str()),
            rec.map(|r| r.slack_user.as_str()),
            "step_up_failed",
            json!({
                "reason": reason,
                "method": rec.map(|r| r.method.clone()),
                "kind": rec.map(|r| r.kind),
                "okta_user": rec.map(|r| r.okta_user.clone()),
            }),
        )
        .await;
        if let Some(rec) = rec {
            let text = format!(
                "Okta did not confirm your {} of {}: {reason}",
                if rec.kind == Kind::Continue {
                    "Continue"
                } else {
                    "approval"
                },
                rec.request_id
            );
            self.tell(
                rec.channel_id.as_str(),
                rec.slack_user.as_str(),
                None,
                &text,
            )
            .await;
        }
    }

    /// The approval message's line on how its sign-offs were confirmed (none without step-up).
    pub(crate) async fn step_up_note(&self, r: &RequestRecord) -> Option<String> {
        if self.config.policy.step_up == StepUpMode::None {
            return None;
        }
        let rows = self.store.step_ups(r.id.as_str()).await.ok()?;
        let signed = self.store.sign_offs(r.id.as_str()).await.ok()?;
        // A confirmation is shown only beside the sign-off it led to: it is settled confirmed
        // just before the approval or Continue is recorded, which can still be refused (or the
        // bot stop) in between.
        let recorded = |s: &StepUpRecord| {
            let approved = r.decision.as_ref().is_some_and(|d| {
                d.decision == crate::domain::kinds::DecisionKind::Approved
                    && d.actor == s.slack_user
            });
            (s.kind == Kind::Approve && approved)
                || signed
                    .iter()
                    .any(|o| o.kind == s.kind && o.actor == s.slack_user)
        };
        let lines: Vec<String> = rows
            .iter()
            .filter(|s| s.state == StepUpState::Confirmed && recorded(s))
            .map(|s| {
                format!(
                    "🔐 {} by {} — {}",
                    if s.kind == Kind::Continue {
                        "Continued"
                    } else {
                        "Approved"
                    },
                    render::mention(s.slack_user.as_str()),
                    how_confirmed(s)
                )
            })
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// "confirmed in Okta (mfa, <time>)" or "confirmed with Okta Verify (<time>)".
pub fn how_confirmed(s: &StepUpRecord) -> String {
    let at = s.auth_time.map(render::slack_date).unwrap_or_default();
    if s.method == StepUpMode::OktaVerifyPush.code() {
        return format!("confirmed with Okta Verify ({at})");
    }
    let amr: Vec<&str> = s.amr.as_deref().unwrap_or("").split_whitespace().collect();
    let how = if amr.contains(&"mfa") {
        "mfa".to_string()
    } else if amr.is_empty() {
        "sign-in".to_string()
    } else {
        crate::slack::escape::escape(&amr.join("+"))
    };
    format!("confirmed in Okta ({how}, {at})")
}

pub(super) fn store_down(e: crate::store::StoreError) -> String {
    tracing::error!(error = %e, "store failed during a step-up");
    "The bot's store could not be reached; nothing was recorded. Try again shortly.".to_string()
}

/// Adds the confirmation note under the approval message's blocks.
pub fn note_on(msg: &mut Message, note: Option<String>) {
    use slack_morphism::prelude as sm;
    let Some(note) = note else { return };
    msg.blocks
        .push(sm::SlackBlock::Context(sm::SlackContextBlock::new(vec![
            sm::SlackContextBlockElement::MarkDown(sm::SlackBlockMarkDownText::new(note.clone())),
        ])));
    msg.text = format!("{}\n{note}", msg.text);
}
