//! The DM telling a reset person what happened (`policy.notify_users`), and what their
//! "I didn't expect this" posts in the request's thread.
//!
//! What the DM never carries: a reset link or temporary password (the bot never asks Okta for
//! one), the request's free-text reason (it may name an incident or other people), and anyone
//! else on the list. The reason is given only as its category, "security incident".

use slack_morphism::prelude as sm;

use super::escape::{escape_clipped, one_line};
use super::outbound::Message;
use super::render::{button, mention, section};
use super::render_budget::bounded_list;
use crate::domain::kinds::NoticeState;
use crate::domain::records::{NoticeRecord, TargetRecord};

/// Not-notified people listed in the summary; the results file has them all.
const NOT_NOTIFIED_LISTED: usize = 20;

/// Why a row left `sending` (by a process that died mid-send) counts as not notified.
pub const DELIVERY_UNKNOWN: &str =
    "delivery unknown: the bot stopped while sending this DM (not sent again, so nobody gets two)";

/// The DM's button: the person says the reset surprised them.
pub const UNEXPECTED: &str = "reset_unexpected";

/// The one DM to a reset person. `approvers` are Slack ids; `channel` is the request's channel,
/// where they can ask if the email did not come.
pub fn notice(request_id: &str, requester: &str, approvers: &[String], channel: &str) -> Message {
    let approvers = if approvers.is_empty() {
        "a second admin".to_string()
    } else {
        approvers
            .iter()
            .map(|a| mention(a))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    // Only Slack ids go in: nothing here came from a person's free text or from Okta.
    let text = format!(
        "🔐 *Your Okta password was reset by IT* because of a security incident.\n\
         Requested by {} and approved by {approvers} (request {request_id}).\n\
         *What to do next:* use the reset link Okta emailed you to choose a new password. \
         If you did not get the email, ask in <#{channel}>.\n\
         IT will never send you a reset link or a password in Slack.",
        mention(requester),
    );
    let buttons = sm::SlackActionsBlock::new(vec![button(
        UNEXPECTED,
        "I didn't expect this",
        request_id,
        sm::SlackBlockButtonStyle::Danger,
    )])
    .with_block_id(sm::SlackBlockId("reset-notice".into()));
    Message {
        text: "Your Okta password was reset by IT because of a security incident: use the reset link Okta emailed you.".into(),
        blocks: vec![section(text), buttons.into()],
    }
}

/// Posted in the request's thread when the person clicks "I didn't expect this".
pub fn reported(user: &str) -> String {
    format!(
        "⚠️ {} reports they did not expect this reset.",
        mention(user)
    )
}

/// The results file's `notified` cell: `yes`, `no: why`, or empty (nobody was to be told).
pub fn notified_cell(n: Option<&NoticeRecord>) -> String {
    match n {
        None => String::new(),
        Some(n) if n.state == NoticeState::Notified => "yes".into(),
        Some(n) => format!("no: {}", not_notified_reason(n)),
    }
}

fn not_notified_reason(n: &NoticeRecord) -> &str {
    match n.state {
        NoticeState::Sending => DELIVERY_UNKNOWN,
        NoticeState::Notified | NoticeState::NotNotified => {
            n.reason.as_deref().unwrap_or("not notified")
        }
    }
}

/// The summary's line on the DMs, with each person not notified and why; `None` when nobody was
/// to be told.
pub fn summary_section(
    targets: &[TargetRecord],
    notices: &[NoticeRecord],
) -> Option<sm::SlackBlock> {
    if notices.is_empty() {
        return None;
    }
    let told = notices
        .iter()
        .filter(|n| n.state == NoticeState::Notified)
        .count();
    let missed: Vec<&NoticeRecord> = notices
        .iter()
        .filter(|n| n.state != NoticeState::Notified)
        .collect();
    let head = format!(
        "📨 *Told by Slack DM:* {told} notified, {} not notified.",
        missed.len()
    );
    if missed.is_empty() {
        return Some(section(head));
    }
    let lines: Vec<String> = missed
        .iter()
        .take(NOT_NOTIFIED_LISTED)
        .map(|n| {
            let who = targets
                .iter()
                .find(|t| t.seq == n.seq)
                .and_then(|t| t.target.login.clone().or(t.target.okta_id.clone()))
                .unwrap_or_else(|| format!("target {}", n.seq));
            format!(
                "• {} — {}",
                escape_clipped(&one_line(&who), 120).0,
                escape_clipped(&one_line(not_notified_reason(n)), 200).0
            )
        })
        .collect();
    let (list, _) = bounded_list(
        &format!("{head}\n*Not notified:*"),
        &lines,
        missed.len(),
        2000,
    );
    Some(section(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_names_people_by_id_and_carries_no_link() {
        let m = notice("R-ABCDEFGH", "U0001", &["U0002".into()], "C0001");
        let all = format!("{}{:?}", m.text, m.blocks);
        assert!(all.contains("<@U0001>") && all.contains("<@U0002>") && all.contains("<#C0001>"));
        assert!(all.contains("security incident"));
        assert!(!all.contains("http"), "no link of any kind: {all}");
        assert!(all.contains(UNEXPECTED));
    }
}
