//! `okta_verify_push`: at the click the approver's active Okta Verify push factor gets a number
//! matching challenge; the approver is told which number to choose; the transaction is polled
//! every 3 s until SUCCESS (the Approve / Continue is recorded, re-checked like any other) or
//! REJECTED, TIMEOUT or 2 minutes (refused, nothing recorded, audited with the result). A
//! second click while a push is pending sends no second push (one live push per approver and
//! request, held in the store so every replica sees it).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::oidc::{random_token, sha256_hex};
use super::Evidence;
use crate::service::Service;
use crate::store::{StepUpRecord, StepUpState};

/// Okta's push waits about this long; the bot gives up then too.
pub const PUSH_TTL_MS: i64 = 2 * 60 * 1000;
const POLL_EVERY: Duration = Duration::from_secs(3);

/// Okta's error as one escaped, bounded line: its text carries Okta's `errorSummary`.
fn said(e: &crate::okta::OktaError) -> String {
    use crate::slack::escape::{escape_clipped, one_line};
    escape_clipped(&one_line(&e.to_string()), 300).0
}

/// What the approver can do after Okta refused a factor call: wait, or (for a refusal of the
/// bot's own credentials, which no retry changes) have an Okta admin fix them.
fn what_next(e: &crate::okta::OktaError) -> &'static str {
    if e.is_systemic() {
        "The bot's Okta credentials cannot do this: ask an Okta admin to grant them (a service app needs okta.users.read and okta.users.manage)."
    } else {
        "Try again shortly."
    }
}

impl Service {
    pub(super) async fn start_push(self: &Arc<Self>, mut rec: StepUpRecord) -> Result<(), String> {
        rec.token_hash = sha256_hex(random_token().as_bytes());
        rec.state = StepUpState::Started;
        rec.expires_at = rec.clicked_at + PUSH_TTL_MS;
        let created = self
            .store
            .create_step_up(&rec, false, rec.clicked_at)
            .await
            .map_err(super::store_down)?;
        if !created {
            return Err(format!(
                "A push to your phone is already waiting for {}: answer it in Okta Verify. No second push was sent and nothing was recorded.",
                rec.request_id
            ));
        }
        let token_hash = rec.token_hash.clone();
        let token_hash = &token_hash;
        let fail = |why: String| async move {
            let _ = self
                .store
                .settle_step_up(token_hash, StepUpState::Failed, None, None, self.now())
                .await;
            why
        };
        let factor = match self.okta.push_factor(&rec.okta_user).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(fail(format!(
                    "Your Okta account ({}) has no active Okta Verify push factor, so Okta cannot confirm your approval; nothing was recorded. Enrol Okta Verify, then click again.",
                    crate::slack::escape::escape(&rec.okta_login)
                ))
                .await)
            }
            Err(e) => {
                return Err(fail(format!(
                    "Okta could not list your factors ({}); nothing was recorded. {}",
                    said(&e),
                    what_next(&e)
                ))
                .await)
            }
        };
        let push = match self.okta.verify_push(&rec.okta_user, &factor).await {
            Ok(p) => p,
            // Okta may have pushed before failing: the push is not sent again, and one that
            // reaches the phone has no poll link here, so it can never count.
            Err(
                e @ (crate::okta::OktaError::Server { .. }
                | crate::okta::OktaError::Transport(_)
                | crate::okta::OktaError::TimedOut),
            ) => {
                return Err(fail(format!(
                    "Okta failed while sending the push ({}). If a push still reaches your phone, ignore it: it will not count. Nothing was recorded; click again for a new push.",
                    said(&e)
                ))
                .await)
            }
            Err(e) => {
                return Err(fail(format!(
                    "Okta could not send the push ({}); nothing was recorded. {}",
                    said(&e),
                    what_next(&e)
                ))
                .await)
            }
        };
        self.tell(
            rec.channel_id.as_str(),
            rec.slack_user.as_str(),
            None,
            &format!(
                "Approve on your phone: choose *{}* in Okta Verify (within 2 minutes) to confirm {}. Nothing is recorded until Okta confirms.",
                crate::slack::escape::escape(&push.correct_answer),
                rec.request_id
            ),
        )
        .await;
        self.audit(
            Some(rec.request_id.as_str()),
            Some(rec.slack_user.as_str()),
            "step_up_started",
            json!({"method": rec.method, "kind": rec.kind, "okta_user": rec.okta_user, "digest": rec.digest, "factor_id": factor}),
        )
        .await;
        let svc = self.clone();
        tokio::spawn(svc.await_push(rec, factor, push.poll));
        Ok(())
    }

    /// Boxed as `dyn Future + Send`: the confirmed re-run can start a push itself, and the
    /// erased type breaks that cycle for the compiler.
    fn await_push(
        self: Arc<Self>,
        rec: StepUpRecord,
        factor: String,
        poll: url::Url,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            let result = loop {
                tokio::time::sleep(POLL_EVERY).await;
                if self.now() > rec.expires_at {
                    break "no answer within 2 minutes".to_string();
                }
                match self.okta.push_result(&poll).await {
                    Ok(r) if r == "WAITING" => continue,
                    Ok(r) => break r,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not read a push's status; retrying")
                    }
                }
            };
            if result != "SUCCESS" {
                let why = match result.as_str() {
                    "REJECTED" => "Okta Verify answered REJECTED (the push was denied on the phone); nothing was recorded.".to_string(),
                    "TIMEOUT" => "Okta Verify answered TIMEOUT (the push was not answered in time); nothing was recorded.".to_string(),
                    other => format!(
                        "Okta Verify answered {}; nothing was recorded.",
                        super::oidc::plain(other)
                    ),
                };
                self.step_up_failed(Some(&rec), true, &why).await;
                return;
            }
            let now = self.now();
            let ev = Evidence {
                amr: None,
                auth_time: now,
                detail: json!({
                    "okta_user": rec.okta_user,
                    "factor_id": factor,
                    "factor_result": result,
                    "confirmed_at": now,
                }),
            };
            match self.step_up_confirmed(&rec, ev).await {
                Ok(_) => {}
                Err(why) => self.step_up_failed(Some(&rec), true, &why).await,
            }
        })
    }
}
