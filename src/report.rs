//! `okta-reset report R-… --config …`: one Markdown file an incident ticket can take as it is —
//! the request, the frozen list's digest and counts, each decision with who, when and how it was
//! confirmed, the run's timeline, one row per user, and the audit chain's head.
//!
//! It reads only the store named in the config (opened read-only, as `audit verify` does): no
//! secret, no Slack, no Okta. Every piece of text that came from a person or from Okta is escaped
//! for Markdown ([`md`]), so a reason or login cannot add a heading, a link, HTML or a table cell.
//!
//! Per user: *sessions ended* from the `--contain` journal (or, without it, whether the reset
//! call carried `revokeSessions`), *notified* from the DM journal (`policy.notify_users`), and
//! the System Log's last answer. Users who said "didn't expect this" come from `user_reported`.

use std::path::Path;

use crate::audit::{verify, Verdict};
use crate::clock::format_rfc3339;
use crate::config::Config;
use crate::domain::ids::RequestId;
use crate::domain::kinds::Outcome as UserOutcome;
use crate::store::{self, AuditEvent, RequestRecord, Store, TargetRecord};

/// Written.
pub const EXIT_OK: u8 = 0;
/// No such request, a bad id, or the store could not be read.
pub const EXIT_CANNOT: u8 = 2;

/// What to print and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: u8,
    /// The Markdown (exit 0) or why not (exit 2).
    pub text: String,
}

fn cannot(text: impl Into<String>) -> Outcome {
    Outcome {
        code: EXIT_CANNOT,
        text: text.into(),
    }
}

/// Escapes text for Markdown: inline, on one line, safe inside a table cell.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | '"' | '\'' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn when(ms: i64) -> String {
    format_rfc3339(ms)
}

/// `okta-reset report ID --config PATH`.
pub async fn report_command(config_path: &Path, id: &str) -> Outcome {
    let Ok(id) = RequestId::parse(id.trim()) else {
        return cannot(format!(
            "`{}` is not a request id (R- and 8 letters or digits, as in the thread).",
            id.chars().take(40).collect::<String>()
        ));
    };
    let config = match Config::from_file(config_path) {
        Ok(c) => c,
        Err(e) => return cannot(e.to_string()),
    };
    let store = match store::open_read_only(&config.store.url).await {
        Ok(s) => s,
        Err(e) => return cannot(e.to_string()),
    };
    report(store.as_ref(), id.as_str()).await
}

/// The report of request `id` from `store`.
pub async fn report(store: &dyn Store, id: &str) -> Outcome {
    let r = match store.get_request(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return cannot(format!("There is no request {id} in this store.")),
        Err(e) => return cannot(e.to_string()),
    };
    let (targets, events) = match (store.targets(id).await, store.audit_events(Some(id)).await) {
        (Ok(t), Ok(e)) => (t, e),
        (Err(e), _) | (_, Err(e)) => return cannot(e.to_string()),
    };
    let notices = match store.notices(id).await {
        Ok(n) => n,
        Err(e) => return cannot(e.to_string()),
    };
    let head = match verify(store).await {
        Ok(Verdict::Intact(i)) => format!(
            "#{} sha256:{} ({} events, intact when this report was written)",
            i.head_seq, i.head_hash, i.events
        ),
        Ok(Verdict::Broken { at, .. }) => {
            format!(
                "NOT intact: {} (run `okta-reset audit verify`)",
                md(&at.to_string())
            )
        }
        Err(e) => format!("could not be checked: {}", md(&e.to_string())),
    };
    Outcome {
        code: EXIT_OK,
        text: render(&r, &targets, &notices, &events, &head),
    }
}

fn who(actor: &Option<String>) -> String {
    actor.as_deref().map(md).unwrap_or_else(|| "the bot".into())
}

/// The Markdown of one request.
pub fn render(
    r: &RequestRecord,
    targets: &[TargetRecord],
    notices: &[crate::store::NoticeRecord],
    events: &[AuditEvent],
    head: &str,
) -> String {
    let mut o = String::new();
    let line = |o: &mut String, s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(
        &mut o,
        format!("# Incident record: password reset {}", md(r.id.as_str())),
    );
    line(&mut o, String::new());
    line(&mut o, "## Request".into());
    line(&mut o, String::new());
    line(
        &mut o,
        format!(
            "- **Requested by:** Slack user {}",
            md(r.requester.as_str())
        ),
    );
    line(&mut o, format!("- **When:** {}", when(r.created_at)));
    line(
        &mut o,
        format!(
            "- **Reason:** {}",
            r.reason
                .as_deref()
                .map(md)
                .unwrap_or_else(|| "none given".into())
        ),
    );
    line(
        &mut o,
        format!(
            "- **Channel:** {} (team {})",
            md(r.channel_id.as_str()),
            md(r.team_id.as_str())
        ),
    );
    line(
        &mut o,
        format!("- **Command as typed:** {}", md(&r.command_text)),
    );
    line(&mut o, format!("- **State:** {}", md(r.state.code())));
    line(
        &mut o,
        format!(
            "- **Sessions ended with each reset (revokeSessions):** {}",
            if r.revoke_sessions { "yes" } else { "no" }
        ),
    );
    line(&mut o, String::new());
    line(&mut o, "## Frozen list".into());
    line(&mut o, String::new());
    line(&mut o, format!("- **Digest:** {}", md(&r.digest)));
    line(
        &mut o,
        format!(
            "- **Resolved:** {}, **to reset:** {}",
            r.resolved_count, r.reset_count
        ),
    );
    let count = |x: UserOutcome| targets.iter().filter(|t| t.outcome == x).count();
    line(
        &mut o,
        format!(
            "- **Outcomes:** {} reset, {} skipped, {} failed, {} not attempted",
            count(UserOutcome::Reset),
            count(UserOutcome::Skipped),
            count(UserOutcome::Failed),
            count(UserOutcome::Pending) + count(UserOutcome::InFlight)
        ),
    );
    line(&mut o, String::new());
    line(&mut o, "## Decisions".into());
    line(&mut o, String::new());
    const DECISIONS: [&str; 8] = [
        "approval_recorded",
        "approved",
        "denied",
        "cancelled",
        "expired",
        "run_continued",
        "run_continued_after_canary",
        "step_up_confirmed",
    ];
    let mut any = false;
    for e in events
        .iter()
        .filter(|e| DECISIONS.contains(&e.action.as_str()))
    {
        any = true;
        let how = if e.action == "step_up_confirmed" {
            format!(
                " — confirmed by {} as Okta user {}",
                md(e.detail["method"].as_str().unwrap_or("step-up")),
                md(e.detail["okta_user"].as_str().unwrap_or("?"))
            )
        } else {
            String::new()
        };
        line(
            &mut o,
            format!(
                "- {} — {} by {}{how}",
                when(e.at),
                md(&e.action),
                who(&e.actor)
            ),
        );
    }
    if !any {
        line(&mut o, "- none recorded".into());
    }
    line(&mut o, String::new());
    line(&mut o, "## Timeline".into());
    line(&mut o, String::new());
    for e in events
        .iter()
        .filter(|e| e.action != "user_outcome" && e.action != "system_log_checked")
    {
        line(
            &mut o,
            format!("- {} — {} ({})", when(e.at), md(&e.action), who(&e.actor)),
        );
    }
    line(&mut o, String::new());
    line(&mut o, "## Users".into());
    line(&mut o, String::new());
    let confirmed = system_log_confirmed(events);
    line(&mut o, "| Okta id | login | outcome | reason | sessions ended | notified | confirmed in System Log |".into());
    line(&mut o, "|---|---|---|---|---|---|---|".into());
    for t in targets {
        let id = t.target.okta_id.clone().unwrap_or_default();
        let reset = t.outcome == UserOutcome::Reset;
        let sessions = match (reset, r.contain, r.revoke_sessions) {
            // `--contain`: the journal says whether the revocation after the reset went through.
            (true, true, _) => crate::results::sessions_ended_label(r, t),
            (true, false, true) => "with the reset",
            (true, false, false) => "no",
            _ => "",
        };
        let notified =
            crate::slack::render_notice::notified_cell(notices.iter().find(|n| n.seq == t.seq));
        let log = match (&confirmed, reset) {
            (_, false) => "",
            (None, true) => "not checked",
            (Some(Err(())), true) => "unknown",
            (Some(Ok(ids)), true) if ids.contains(&id) => "yes",
            _ => "not yet",
        };
        line(
            &mut o,
            format!(
                "| {} | {} | {} | {} | {sessions} | {} | {log} |",
                md(&id),
                md(t.target.login.as_deref().unwrap_or("")),
                md(crate::results::outcome_label(t)),
                md(t.outcome_reason.as_deref().unwrap_or("")),
                md(&notified),
            ),
        );
    }
    line(&mut o, String::new());
    line(&mut o, "## Users who said they did not expect this".into());
    line(&mut o, String::new());
    let reported: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| e.action == "user_reported")
        .collect();
    if reported.is_empty() {
        line(&mut o, "Nobody.".into());
    }
    for e in reported {
        let login = e.detail["seq"]
            .as_i64()
            .and_then(|seq| targets.iter().find(|t| t.seq == seq))
            .and_then(|t| t.target.login.as_deref())
            .unwrap_or("");
        line(
            &mut o,
            format!(
                "- {} — Slack user {} ({})",
                when(e.at),
                who(&e.actor),
                md(login)
            ),
        );
    }
    line(&mut o, String::new());
    line(&mut o, "## Audit chain".into());
    line(&mut o, String::new());
    line(&mut o, format!("Head at the time of this report: {head}"));
    o
}

/// The last System Log look's confirmed ids; `Err` when the log could not be read (403).
fn system_log_confirmed(events: &[AuditEvent]) -> Option<Result<Vec<String>, ()>> {
    let last = events.iter().rfind(|e| e.action == "system_log_checked")?;
    if last.detail["read"] == "forbidden" {
        return Some(Err(()));
    }
    Some(Ok(last.detail["confirmed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn hostile_text_cannot_shape_the_markdown() {
        let hostile = "x | y\n# Heading `code` <script>alert(1)</script> [a](http://evil) **b**";
        let out = md(hostile);
        assert!(!out.contains('\n'));
        assert_eq!(
            out.matches('|').count(),
            out.matches("\\|").count(),
            "{out}"
        );
        assert!(!out.contains("<script>"));
        assert!(out.contains("&lt;script&gt;"));
        assert!(out.contains("\\[a\\]\\(http\\:"));
        assert!(out.contains("\\# Heading \\`code\\`"));
        assert!(out.contains("\\*\\*b\\*\\*"));
    }
}
