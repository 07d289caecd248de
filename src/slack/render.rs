//! Block Kit messages. Every piece of text from a person or from Okta goes through `escape`;
//! Slack user IDs are rendered as mentions only after they were validated as IDs.

use slack_morphism::prelude as sm;
use slack_morphism::prelude::SlackBlock;

use super::escape::{escape_clipped, one_line, quoted, slack_len};
use super::outbound::Message;
use super::render_budget::{bounded_list, fit_section, SECTION_MAX};
use crate::domain::classify::TargetClass;
use crate::domain::classify::CHANGED_SINCE_APPROVAL;
use crate::domain::digest::short;
use crate::domain::kinds::{DecisionKind, Outcome, Sessions};
use crate::domain::records::{RequestRecord, TargetRecord};
use crate::domain::request::State;

/// Targets listed in the approval message (fewer if their lines do not fit in a section).
pub const PREVIEW: usize = 10;
/// Failed users listed in the summary (fewer if their lines do not fit in a section).
pub const FAILED_LISTED: usize = 20;
/// Longest login, display name and reason (escaped, quotes included) in a list's line, so that
/// one long entry cannot push the others out.
const LOGIN_MAX: usize = 160;
const NAME_MAX: usize = 100;
const DETAIL_MAX: usize = 400;
/// Room always left for "*Asked for:*" after the requester and the reason.
const ASKED_MIN: usize = 200;
/// Room for each list: below a section's 3000 characters so that the whole message stays well
/// under the total Slack refuses as `msg_blocks_too_long` (about 12,000 characters of blocks).
const LIST_MAX: usize = 2000;

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
        .with_text(md(fit_section(text.into())))
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
    let mut line = format!("• {}", quoted(login, LOGIN_MAX).0);
    if !name.trim().is_empty() {
        line.push(' ');
        line.push_str(&quoted(name, NAME_MAX).0);
    }
    line
}

/// A line of a list with why (a skip's detail, a failure's reason): one line, escaped, shortened.
fn target_line_with(t: &TargetRecord, why: &str) -> String {
    format!(
        "{} — {}",
        target_line(t),
        escape_clipped(&one_line(why), DETAIL_MAX).0
    )
}

/// Counts by classification in a stable order, e.g. "*30 will reset* · 3 skipped: AD/LDAP-managed".
pub fn classification_counts(targets: &[TargetRecord]) -> String {
    TargetClass::ALL
        .iter()
        .filter_map(|&c| {
            let n = targets
                .iter()
                .filter(|t| t.target.classification == c)
                .count();
            (n > 0 || c.is_reset()).then(|| {
                if c.is_reset() {
                    format!("*{n} {}*", c.label())
                } else {
                    format!("{n} {}", c.label())
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
    approval_parts(r, targets, sign_offs, now_ms).0
}

/// Whether the approval message leaves anyone (or part of what was asked) out: then the full
/// list is attached in its thread.
pub fn approval_is_partial(r: &RequestRecord, targets: &[TargetRecord]) -> bool {
    approval_parts(r, targets, &SignOffs::default(), r.created_at).1
}

/// What `--contain` adds, said plainly to the approver (issue 16).
pub const CONTAIN_LINE: &str =
    "Also ends every session and OAuth token, and forgets remembered devices.";

/// The approval message by priority: first the counts and the options the approver decides on
/// (bot text only, always whole), then who asked and why (the reason whole: 500 characters fit
/// even fully escaped), then what was asked (shortened to the room left), then the lists (each
/// ending with "…and N more" when cut). Free text is quoted on one line (`escape::quoted`), so
/// nothing typed can look like these lines. Also says whether anything was left out.
fn approval_parts(
    r: &RequestRecord,
    targets: &[TargetRecord],
    sign_offs: &SignOffs,
    now_ms: i64,
) -> (Message, bool) {
    let mut partial = false;
    let mut blocks = vec![header(&format!("Password reset request {}", r.id))];
    let mut decide = format!(
        "*Resolved {} user(s):* {}",
        r.resolved_count,
        classification_counts(targets)
    );
    if r.contain {
        // Bot text beside the counts: never cut, whatever the lists and the reason take.
        decide.push_str(&format!("\n*Contain:* {CONTAIN_LINE} (`--contain`)"));
    } else if r.revoke_sessions {
        decide.push_str("\n*Also:* ends each user's Okta sessions (`--revoke-sessions`)");
    }
    blocks.push(section(decide));
    let mut about = format!(
        "*Requested by* {} {}\n*Reason:* ",
        mention(r.requester.as_str()),
        slack_date(r.created_at)
    );
    match r.reason.as_deref() {
        Some(reason) => {
            let room = SECTION_MAX.saturating_sub(slack_len(&about) + ASKED_MIN);
            let (text, cut) = quoted(reason, room);
            partial |= cut;
            about.push_str(&text);
        }
        None => about.push_str("_none given_"),
    }
    // What was asked is the canonical command: its targets are each in the attached list (with
    // their `source`), its reason is shown whole above and its options in the first section, so
    // shortening it here loses nothing the approver cannot see.
    about.push_str("\n*Asked for:* ");
    let (asked, cut) = quoted(&r.command_text, SECTION_MAX - slack_len(&about));
    partial |= cut;
    about.push_str(&asked);
    blocks.push(section(about));
    let to_reset: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.target.classification.is_reset())
        .collect();
    let lines: Vec<String> = to_reset
        .iter()
        .take(PREVIEW)
        .map(|t| target_line(t))
        .collect();
    let (list, cut) = bounded_list("*Will reset:*", &lines, to_reset.len(), LIST_MAX);
    partial |= cut;
    blocks.push(section(list));
    // Rows of a file that named nobody have their own section, with row numbers.
    let skipped: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| !t.target.classification.is_reset())
        .filter(|t| !super::render_file::is_unusable_row(&t.target))
        .collect();
    if let Some(file) = super::render_file::file_section(targets) {
        blocks.push(section(file));
    }
    if !skipped.is_empty() {
        let lines: Vec<String> = skipped
            .iter()
            .take(PREVIEW)
            .map(|t| target_line_with(t, &t.target.detail))
            .collect();
        let (list, cut) = bounded_list("*Skipped:*", &lines, skipped.len(), LIST_MAX);
        partial |= cut;
        blocks.push(section(list));
    }
    let mut snapshot = format!(
        "Snapshot `sha256:{}` — the run touches exactly this list. The list is checked again against Okta when the run starts: anyone no longer resettable then (status, provider, an admin role or a protected group) is skipped. Request expires {}.",
        short(&r.digest),
        slack_date(r.expires_at)
    );
    if partial {
        snapshot.push_str(" This message is shortened to fit Slack: every user, with what will happen to each, is in the list attached in this thread.");
    }
    blocks.push(context(snapshot));
    let status = status_line(r, now_ms);
    match r.state {
        State::PendingApproval if now_ms < r.expires_at && !r.dry_run => {
            blocks.push(section(waiting_line(r, sign_offs)));
            blocks.push(
                sm::SlackActionsBlock::new(vec![
                    button(
                        APPROVE,
                        "Approve",
                        r.id.as_str(),
                        sm::SlackBlockButtonStyle::Primary,
                    ),
                    button(
                        DENY,
                        "Deny",
                        r.id.as_str(),
                        sm::SlackBlockButtonStyle::Danger,
                    ),
                ])
                .with_block_id(sm::SlackBlockId(decision_block_id(sign_offs)))
                .into(),
            );
        }
        _ => blocks.push(section(status)),
    }
    if let Some(line) = sign_off_line(r, sign_offs) {
        blocks.push(context(line));
    }
    let message = Message {
        text: format!(
            "Password reset request {} by {}: {} user(s) to reset. {}",
            r.id,
            mention(r.requester.as_str()),
            r.reset_count,
            status_line(r, now_ms)
        ),
        blocks,
    };
    (message, partial)
}

/// The buttons' `block_id` changes with each approval recorded: Slack asks for a new `block_id`
/// when an update changes an actions block, or clients may keep the old block's state. Clicks
/// are read by `action_id` and value only, never by this id.
fn decision_block_id(s: &SignOffs) -> String {
    format!("decision-{}", s.approvers.len())
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
        .map(|d| format!("{} {}", mention(d.actor.as_str()), slack_date(d.decided_at)))
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
            escape_clipped(
                &one_line(r.stop_reason.as_deref().unwrap_or("the run was stopped")),
                DETAIL_MAX
            )
            .0
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
        .filter(|d| d.decision == DecisionKind::Approved)
        .map(|d| {
            format!(
                "✅ *Approved* by {} {}. ",
                mention(d.actor.as_str()),
                slack_date(d.decided_at)
            )
        })
        .unwrap_or_default();
    let by = match (&r.cancelled_by, r.cancelled_at) {
        (Some(who), Some(at)) => format!(" by {} {}", mention(who.as_str()), slack_date(at)),
        (Some(who), None) => format!(" by {}", mention(who.as_str())),
        _ => r
            .decision
            .as_ref()
            .filter(|d| d.decision == DecisionKind::Cancelled)
            .map(|d| {
                format!(
                    " by {} {}",
                    mention(d.actor.as_str()),
                    slack_date(d.decided_at)
                )
            })
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
/// `--contain`: of the users reset, how many had every session and token ended, counted apart
/// from those reset whose sessions were not ended (a failed revocation, or the run ended first).
fn contain_counts(targets: &[TargetRecord]) -> String {
    let reset: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.outcome == Outcome::Reset)
        .collect();
    let ended = reset
        .iter()
        .filter(|t| t.sessions == Some(Sessions::Ended))
        .count();
    let not_ended = reset.len() - ended;
    if not_ended == 0 {
        format!("🔒 *Contained:* sessions, OAuth tokens and remembered devices ended for all {ended} reset.")
    } else {
        format!("🔒 *Contained:* sessions ended for {ended}; ⚠️ *{not_ended} reset, sessions not ended* (listed below).")
    }
}

pub fn summary(r: &RequestRecord, targets: &[TargetRecord], now_ms: i64) -> Message {
    let count = |o: Outcome| targets.iter().filter(|t| t.outcome == o).count();
    let (reset, failed, skipped, pending) = (
        count(Outcome::Reset),
        count(Outcome::Failed),
        count(Outcome::Skipped),
        count(Outcome::Pending) + count(Outcome::InFlight),
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
        .map(|d| mention(d.actor.as_str()))
        .unwrap_or_else(|| "nobody".into());
    let mut lines = vec![format!(
        "{title} for {}: *{reset} reset*, {skipped} skipped, {failed} failed{} in {secs:.1} s, ended {}.\nRequested by {}, approved by {approver}.",
        r.id,
        if pending > 0 { format!(", {pending} not attempted") } else { String::new() },
        slack_date(r.finished_at.unwrap_or(now_ms)),
        mention(r.requester.as_str()),
    )];
    if r.contain {
        lines.push(contain_counts(targets));
    }
    if let Some(reason) = &r.stop_reason {
        lines.push(format!(
            "*Why it stopped:* {}",
            escape_clipped(&one_line(reason), DETAIL_MAX).0
        ));
    }
    let mut blocks = vec![section(lines.join("\n"))];
    let failed_list: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.outcome == Outcome::Failed)
        .collect();
    if !failed_list.is_empty() {
        let l: Vec<String> = failed_list
            .iter()
            .take(FAILED_LISTED)
            .map(|t| target_line_with(t, t.outcome_reason.as_deref().unwrap_or("failed")))
            .collect();
        let (list, _) = bounded_list("*Failed:*", &l, failed_list.len(), LIST_MAX);
        blocks.push(section(list));
    }
    let not_ended: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| r.contain && t.outcome == Outcome::Reset && t.sessions != Some(Sessions::Ended))
        .collect();
    if !not_ended.is_empty() {
        let l: Vec<String> = not_ended
            .iter()
            .take(FAILED_LISTED)
            .map(|t| {
                target_line_with(
                    t,
                    t.sessions_reason
                        .as_deref()
                        .unwrap_or("the run ended before its sessions were ended"),
                )
            })
            .collect();
        let (list, _) = bounded_list(
            "*Reset, sessions not ended:*",
            &l,
            not_ended.len(),
            LIST_MAX,
        );
        blocks.push(section(list));
    }
    if let Some(changed) = changed_since_approval(targets) {
        blocks.push(changed);
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

/// Approved users skipped at run time because Okta no longer showed them as resettable, each
/// with what changed.
fn changed_since_approval(targets: &[TargetRecord]) -> Option<SlackBlock> {
    let changed: Vec<&TargetRecord> = targets.iter().filter(|t| skipped_at_run(t)).collect();
    if changed.is_empty() {
        return None;
    }
    let prefix = format!("{CHANGED_SINCE_APPROVAL}: ");
    let l: Vec<String> = changed
        .iter()
        .take(FAILED_LISTED)
        .map(|t| {
            let why = t.outcome_reason.as_deref().unwrap_or_default();
            target_line_with(t, why.strip_prefix(&prefix).unwrap_or(why))
        })
        .collect();
    let heading =
        format!("*Skipped: {CHANGED_SINCE_APPROVAL}* (Okta read again just before each reset):");
    Some(section(
        bounded_list(&heading, &l, changed.len(), LIST_MAX).0,
    ))
}

/// Approved, then skipped by the run (its classification is still `reset`).
fn skipped_at_run(t: &TargetRecord) -> bool {
    t.outcome == Outcome::Skipped && t.target.classification.is_reset()
}

fn skip_breakdown(targets: &[TargetRecord]) -> String {
    let skipped: Vec<TargetRecord> = targets
        .iter()
        .filter(|t| t.outcome == Outcome::Skipped && !skipped_at_run(t))
        .cloned()
        .collect();
    let mut parts: Vec<String> = classification_counts(&skipped)
        .split(" · ")
        .filter(|s| !s.starts_with("*0 "))
        .map(|s| s.replacen("skipped: ", "", 1))
        .collect();
    let changed = targets.iter().filter(|t| skipped_at_run(t)).count();
    if changed > 0 {
        parts.push(format!("{changed} {CHANGED_SINCE_APPROVAL}"));
    }
    parts.join(" · ")
}

fn strip_md(s: &str) -> String {
    s.replace('*', "")
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
