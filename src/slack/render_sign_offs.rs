//! The parts of the approval and progress messages about sign-offs: how many approvals a
//! request needs and who has given them (`policy.two_approvers_above`), and the canary pause
//! with its Continue button (`policy.canary_users`). Only validated Slack user IDs and request
//! ids are rendered here; nothing from people or Okta.

use slack_morphism::prelude as sm;

use super::outbound::Message;
use super::render::{button, context, mention, section, slack_date, Progress, CONTINUE};
use crate::domain::records::RequestRecord;
use crate::domain::request::State;

/// Who has signed a request off so far, beyond the decision row, and how many approvals it
/// needs (`policy.two_approvers_above`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffs {
    pub required: usize,
    /// Slack user IDs of the approvals recorded, in order (empty for one-approver requests).
    pub approvers: Vec<String>,
    /// Who clicked Continue after the canary, if anyone.
    pub continued_by: Option<String>,
}

impl Default for SignOffs {
    fn default() -> Self {
        Self {
            required: 1,
            approvers: Vec::new(),
            continued_by: None,
        }
    }
}

/// "<@A>", "<@A> and <@B>", "<@A>, <@B> and <@C>".
pub fn mentions(ids: &[String]) -> String {
    let m: Vec<String> = ids.iter().map(|u| mention(u)).collect();
    match m.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Who may still approve, and (above `policy.two_approvers_above`) how many have.
pub(super) fn waiting_line(r: &RequestRecord, s: &SignOffs) -> String {
    if s.required <= 1 {
        return format!(
            "Waiting for a second admin to approve. {} cannot approve their own request.",
            mention(r.requester.as_str())
        );
    }
    let so_far = if s.approvers.is_empty() {
        "none yet".to_string()
    } else {
        mentions(&s.approvers)
    };
    format!(
        "*Needs {} approvals* from {} different approvers: it resets {} users. {} cannot approve their own request, and nobody approves twice.\n*Approved so far ({} of {}):* {so_far}",
        s.required,
        s.required,
        r.reset_count,
        mention(r.requester.as_str()),
        s.approvers.len(),
        s.required
    )
}

/// After the decision: every approver of a two-approver request, and who continued the run
/// after its canary.
pub fn sign_off_line(r: &RequestRecord, s: &SignOffs) -> Option<String> {
    let mut parts = Vec::new();
    if r.state != State::PendingApproval && s.approvers.len() > 1 {
        parts.push(format!("Approvals: {}.", mentions(&s.approvers)));
    }
    if let Some(who) = &s.continued_by {
        parts.push(format!("Continued after the canary by {}.", mention(who)));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The progress message while a run waits after its canary: what was done, what to check, and
/// the Continue button (a cancel goes through `/okta-reset cancel`).
pub fn canary_paused(id: &str, p: &Progress, now_ms: i64) -> Message {
    let text = format!(
        "⏸️ Canary: {} users reset; check them, then an approver clicks Continue. ({} reset, {} failed, {} still to do; paused {}.)",
        p.done,
        p.reset,
        p.failed,
        p.total.saturating_sub(p.done),
        slack_date(now_ms)
    );
    let how = format!(
        "Only an approver who is not the requester and not among the users to reset may continue. The run waits as long as it takes; to stop it here: `/okta-reset cancel {id}`."
    );
    Message {
        blocks: vec![
            section(text.clone()),
            context(how),
            sm::SlackActionsBlock::new(vec![button(
                CONTINUE,
                "Continue",
                id,
                sm::SlackBlockButtonStyle::Primary,
            )])
            .with_block_id(sm::SlackBlockId("canary".into()))
            .into(),
        ],
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_read_as_a_list() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(mentions(&ids(&[])), "");
        assert_eq!(mentions(&ids(&["U1"])), "<@U1>");
        assert_eq!(mentions(&ids(&["U1", "U2"])), "<@U1> and <@U2>");
        assert_eq!(
            mentions(&ids(&["U1", "U2", "U3"])),
            "<@U1>, <@U2> and <@U3>"
        );
    }

    #[test]
    fn the_canary_pause_carries_a_continue_button_for_its_request() {
        let p = Progress {
            done: 3,
            total: 28,
            reset: 2,
            failed: 1,
        };
        let m = canary_paused("R-7KQ2M9XD", &p, 0);
        assert!(m.text.starts_with(
            "⏸️ Canary: 3 users reset; check them, then an approver clicks Continue."
        ));
        assert!(
            m.text.contains("2 reset, 1 failed, 25 still to do"),
            "{}",
            m.text
        );
        let blocks = serde_json::to_string(&m.blocks).unwrap();
        assert!(blocks.contains(r#""action_id":"continue""#), "{blocks}");
        assert!(blocks.contains(r#""value":"R-7KQ2M9XD""#), "{blocks}");
        assert!(blocks.contains("/okta-reset cancel R-7KQ2M9XD"), "{blocks}");
    }
}
