//! Block Kit messages. Every piece of text from a person or from Okta goes through `escape`;
//! Slack user IDs are rendered as mentions only after they were validated as IDs.

use slack_morphism::prelude as sm;
use slack_morphism::prelude::SlackBlock;

use super::escape::{code, escape};
use super::outbound::Message;
use crate::domain::classify::Classification;
use crate::domain::digest::short;
use crate::domain::request::State;
use crate::store::{RequestRecord, TargetRecord};

/// Targets listed in the approval message.
pub const PREVIEW: usize = 10;
/// Failed users listed in the summary.
pub const FAILED_LISTED: usize = 20;

pub const APPROVE: &str = "approve";
pub const DENY: &str = "deny";
/// Resumes a run paused after its canary (`policy.canary_users`).
pub const CONTINUE: &str = "continue";

use super::render_sign_offs::waiting_line;
pub use super::render_sign_offs::{canary_paused, mentions, sign_off_line, SignOffs};

fn md(text: impl Into<String>) -> sm::SlackBlockText {
    sm::SlackBlockText::MarkDown(sm::SlackBlockMarkDownText::new(text.into()))
}

pub(super) fn section(text: impl Into<String>) -> SlackBlock {
    sm::SlackSectionBlock::new()
        .with_text(md(truncate(text.into(), 2900)))
        .into()
}

/// A context block (small grey text under a message).
pub fn context(text: impl Into<String>) -> SlackBlock {
    sm::SlackContextBlock::new(vec![sm::SlackContextBlockElement::MarkDown(
        sm::SlackBlockMarkDownText::new(text.into()),
    )])
    .into()
}

fn header(text: &str) -> SlackBlock {
    sm::SlackHeaderBlock::new(sm::SlackBlockPlainTextOnly::from(text.to_string())).into()
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Slack's date formatting: each reader sees their own time zone; the fallback is UTC.
pub fn slack_date(ms: i64) -> String {
    format!(
        "<!date^{}^{{date_short_pretty}} at {{time}}|{}>",
        ms.div_euclid(1000),
        crate::clock::format_utc(ms)
    )
}

pub fn mention(user_id: &str) -> String {
    format!("<@{user_id}>")
}

fn target_line(t: &TargetRecord) -> String {
    let login = t
        .target
        .login
        .as_deref()
        .or(t.target.okta_id.as_deref())
        .unwrap_or("?");
    let name = t.target.display_name.as_deref().unwrap_or("");
    let mut line = format!("• {}", code(login));
    if !name.is_empty() {
        line.push_str(&format!(" {}", escape(name)));
    }
    line
}

/// Counts by classification in a stable order, e.g. "*30 will reset* · 3 skipped: AD/LDAP-managed".
pub fn classification_counts(targets: &[TargetRecord]) -> String {
    let order = [
        "reset",
        "skip_protected",
        "skip_directory",
        "skip_federated",
        "skip_status",
        "skip_provider",
        "skip_duplicate",
        "skip_not_found",
        "skip_bad_row",
        "skip_malformed",
    ];
    order
        .iter()
        .filter_map(|c| {
            let n = targets
                .iter()
                .filter(|t| t.target.classification == *c)
                .count();
            (n > 0 || *c == "reset").then(|| {
                if *c == "reset" {
                    format!("*{n} {}*", Classification::label(c))
                } else {
                    format!("{n} {}", Classification::label(c))
                }
            })
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The root message of a one-approver request (see `approval_with`).
pub fn approval(r: &RequestRecord, targets: &[TargetRecord], now_ms: i64) -> Message {
    approval_with(r, targets, &SignOffs::default(), now_ms)
}

/// The root message of a request's thread: what was asked, what was resolved, and either the
/// buttons (with how many approvals it needs and who has approved so far) or what became of it.
pub fn approval_with(
    r: &RequestRecord,
    targets: &[TargetRecord],
    sign_offs: &SignOffs,
    now_ms: i64,
) -> Message {
    let mut blocks = vec![header(&format!("Password reset request {}", r.id))];
    let reason = r
        .reason
        .as_deref()
        .map(escape)
        .unwrap_or_else(|| "_none given_".into());
    let mut about = format!(
        "*Requested by* {} {}\n*Reason:* {}\n*Asked for:* {}",
        mention(&r.requester),
        slack_date(r.created_at),
        reason,
        code(&r.command_text)
    );
    if r.revoke_sessions {
        about.push_str("\n*Also:* ends each user's Okta sessions (`--revoke-sessions`)");
    }
    blocks.push(section(about));
    blocks.push(section(format!(
        "*Resolved {} user(s):* {}",
        r.resolved_count,
        classification_counts(targets)
    )));
    let to_reset: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.target.classification == "reset")
        .collect();
    let mut preview: Vec<String> = to_reset
        .iter()
        .take(PREVIEW)
        .map(|t| target_line(t))
        .collect();
    if to_reset.len() > PREVIEW {
        preview.push(format!("…and {} more", to_reset.len() - PREVIEW));
    }
    blocks.push(section(format!("*Will reset:*\n{}", preview.join("\n"))));
    // Rows of a file that named nobody have their own section, with row numbers.
    let skipped: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.target.classification != "reset")
        .filter(|t| !super::render_file::is_unusable_row(&t.target))
        .collect();
    if let Some(file) = super::render_file::file_section(targets) {
        blocks.push(section(file));
    }
    if !skipped.is_empty() {
        let mut lines: Vec<String> = skipped
            .iter()
            .take(PREVIEW)
            .map(|t| format!("{} — {}", target_line(t), escape(&t.target.detail)))
            .collect();
        if skipped.len() > PREVIEW {
            lines.push(format!("…and {} more", skipped.len() - PREVIEW));
        }
        blocks.push(section(format!("*Skipped:*\n{}", lines.join("\n"))));
    }
    blocks.push(context(format!(
        "Snapshot `sha256:{}` — the run touches exactly this list. Request expires {}.",
        short(&r.digest),
        slack_date(r.expires_at)
    )));
    let status = status_line(r, now_ms);
    match r.state {
        State::PendingApproval if now_ms < r.expires_at && !r.dry_run => {
            blocks.push(section(waiting_line(r, sign_offs)));
            blocks.push(
                sm::SlackActionsBlock::new(vec![
                    button(
                        APPROVE,
                        "Approve",
                        &r.id,
                        sm::SlackBlockButtonStyle::Primary,
                    ),
                    button(DENY, "Deny", &r.id, sm::SlackBlockButtonStyle::Danger),
                ])
                .with_block_id(sm::SlackBlockId("decision".into()))
                .into(),
            );
        }
        _ => blocks.push(section(status)),
    }
    if let Some(line) = sign_off_line(r, sign_offs) {
        blocks.push(context(line));
    }
    Message {
        text: format!(
            "Password reset request {} by {}: {} user(s) to reset. {}",
            r.id,
            mention(&r.requester),
            r.reset_count,
            status_line(r, now_ms)
        ),
        blocks,
    }
}

pub(super) fn button(
    action: &str,
    label: &str,
    value: &str,
    style: sm::SlackBlockButtonStyle,
) -> sm::SlackActionBlockElement {
    sm::SlackActionBlockElement::Button(
        sm::SlackBlockButtonElement::new(sm::SlackBlockPlainTextOnly::from(label.to_string()))
            .with_action_id(sm::SlackActionId(action.into()))
            .with_value(value.to_string())
            .with_style(style),
    )
}

/// One line saying where a request stands, with who decided and when.
pub fn status_line(r: &RequestRecord, now_ms: i64) -> String {
    let by = r
        .decision
        .as_ref()
        .map(|d| format!("{} {}", mention(&d.actor), slack_date(d.decided_at)))
        .unwrap_or_default();
    match r.state {
        State::DryRun => "🧪 *Dry run:* nothing will be reset and no approval is needed.".into(),
        State::PendingApproval if now_ms >= r.expires_at => {
            format!(
                "⌛ *Expired* {} without a decision.",
                slack_date(r.expires_at)
            )
        }
        State::PendingApproval => "⏳ Waiting for approval.".into(),
        State::Approved => format!("✅ *Approved* by {by}. ▶️ Running — progress in the thread."),
        State::Running => format!("✅ *Approved* by {by}. ▶️ Running — progress in the thread."),
        State::Paused => format!("✅ *Approved* by {by}. ⏸️ *Paused after the canary* — an approver checks the users reset so far and clicks Continue in the thread."),
        State::Completed => format!("✅ *Approved* by {by}. ✔️ Completed — summary in the thread."),
        State::Denied => format!("⛔ *Denied* by {by}."),
        State::Expired => format!(
            "⌛ *Expired* {} without a decision.",
            slack_date(r.expires_at)
        ),
        State::Cancelled => cancelled_line(r),
        State::Stopped => format!(
            "🛑 *Stopped*: {}",
            escape(r.stop_reason.as_deref().unwrap_or("the run was stopped"))
        ),
    }
}

/// Who cancelled (stored apart from the decision), after the approval when there was one. A
/// request withdrawn by the bot has no canceller; one cancelled before the canceller was stored
/// shows its decision row only if that row is the cancel.
fn cancelled_line(r: &RequestRecord) -> String {
    let approved = r
        .decision
        .as_ref()
        .filter(|d| d.decision == "approved")
        .map(|d| {
            format!(
                "✅ *Approved* by {} {}. ",
                mention(&d.actor),
                slack_date(d.decided_at)
            )
        })
        .unwrap_or_default();
    let by = match (&r.cancelled_by, r.cancelled_at) {
        (Some(who), Some(at)) => format!(" by {} {}", mention(who), slack_date(at)),
        (Some(who), None) => format!(" by {}", mention(who)),
        _ => r
            .decision
            .as_ref()
            .filter(|d| d.decision == "cancelled")
            .map(|d| format!(" by {} {}", mention(&d.actor), slack_date(d.decided_at)))
            .unwrap_or_default(),
    };
    format!("{approved}🚫 *Cancelled*{by}.")
}

pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub reset: usize,
    pub failed: usize,
}

/// The thread's note that a request was approved, by whom (`approvers`: mentions, from
/// `mention`/`mentions`) and when.
pub fn approved(approvers: &str, at_ms: i64) -> Message {
    Message::text(format!(
        "✅ Approved by {approvers} {}. The run starts now; progress follows in this thread.",
        slack_date(at_ms)
    ))
}

pub fn progress(p: &Progress, now_ms: i64) -> Message {
    let text = format!(
        "Resetting: {}/{} done — {} reset, {} failed (updated {})",
        p.done,
        p.total,
        p.reset,
        p.failed,
        slack_date(now_ms)
    );
    Message {
        blocks: vec![section(text.clone())],
        text,
    }
}

/// The summary posted in the thread when a run ends (completed, stopped or cancelled).
pub fn summary(r: &RequestRecord, targets: &[TargetRecord], now_ms: i64) -> Message {
    let count = |o: &str| targets.iter().filter(|t| t.outcome == o).count();
    let (reset, failed, skipped, pending) = (
        count("reset"),
        count("failed"),
        count("skipped"),
        count("pending") + count("in_flight"),
    );
    let started = r.started_at.unwrap_or(r.created_at);
    let secs = (r.finished_at.unwrap_or(now_ms) - started).max(0) as f64 / 1000.0;
    let title = match r.state {
        State::Completed => "✔️ *Run complete*",
        State::Stopped => "🛑 *Run stopped*",
        State::Cancelled => "🚫 *Run cancelled*",
        _ => "*Run ended*",
    };
    let approver = r
        .decision
        .as_ref()
        .map(|d| mention(&d.actor))
        .unwrap_or_else(|| "nobody".into());
    let mut lines = vec![format!(
        "{title} for {}: *{reset} reset*, {skipped} skipped, {failed} failed{} in {secs:.1} s, ended {}.\nRequested by {}, approved by {approver}.",
        r.id,
        if pending > 0 { format!(", {pending} not attempted") } else { String::new() },
        slack_date(r.finished_at.unwrap_or(now_ms)),
        mention(&r.requester),
    )];
    if let Some(reason) = &r.stop_reason {
        lines.push(format!("*Why it stopped:* {}", escape(reason)));
    }
    let mut blocks = vec![section(lines.join("\n"))];
    let failed_list: Vec<&TargetRecord> =
        targets.iter().filter(|t| t.outcome == "failed").collect();
    if !failed_list.is_empty() {
        let mut l: Vec<String> = failed_list
            .iter()
            .take(FAILED_LISTED)
            .map(|t| {
                format!(
                    "{} — {}",
                    target_line(t),
                    escape(t.outcome_reason.as_deref().unwrap_or("failed"))
                )
            })
            .collect();
        if failed_list.len() > FAILED_LISTED {
            l.push(format!("…and {} more", failed_list.len() - FAILED_LISTED));
        }
        blocks.push(section(format!("*Failed:*\n{}", l.join("\n"))));
    }
    if skipped > 0 {
        blocks.push(context(format!("Skipped: {}", skip_breakdown(targets))));
    }
    Message {
        text: format!(
            "{} {}: {reset} reset, {skipped} skipped, {failed} failed.",
            strip_md(title),
            r.id
        ),
        blocks,
    }
}

fn skip_breakdown(targets: &[TargetRecord]) -> String {
    let skipped: Vec<TargetRecord> = targets
        .iter()
        .filter(|t| t.outcome == "skipped")
        .cloned()
        .collect();
    classification_counts(&skipped)
        .split(" · ")
        .filter(|s| !s.starts_with("*0 "))
        .map(|s| s.replacen("skipped: ", "", 1))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn strip_md(s: &str) -> String {
    s.replace('*', "")
}
