//! The approval message and the summary with hostile and very long input in every field: each
//! section within Slack's 3000 characters, no entity or code span cut open, what the approver
//! decides on always there and first, and lists that say how many they left out.

use serde_json::Value;

use super::*;
use crate::domain::classify::TargetClass;
use crate::domain::kinds::{DecisionKind, Outcome};
use crate::domain::records::{Decision, NewTarget};

fn request(command_text: &str, reason: Option<&str>) -> RequestRecord {
    RequestRecord {
        id: "R-7K3M9QXD".parse().unwrap(),
        team_id: "T0001".parse().unwrap(),
        channel_id: "C0001".parse().unwrap(),
        requester: "U0001".parse().unwrap(),
        command_text: command_text.into(),
        reason: reason.map(str::to_string),
        dry_run: false,
        revoke_sessions: false,
        contain: false,
        state: State::PendingApproval,
        digest: "d".repeat(64),
        resolved_count: 0,
        reset_count: 0,
        root_ts: None,
        progress_ts: None,
        summary_ts: None,
        created_at: 0,
        expires_at: 1_000_000,
        started_at: None,
        finished_at: None,
        stop_reason: None,
        decision: None,
        cancelled_by: None,
        cancelled_at: None,
        continue_ts: None,
    }
}

fn target(seq: i64, login: &str, name: &str, class: &str, detail: &str) -> TargetRecord {
    TargetRecord {
        seq,
        target: NewTarget {
            okta_id: Some(format!("00u{seq:017}")),
            login: Some(login.into()),
            email: Some(login.into()),
            display_name: Some(name.into()),
            status: Some("ACTIVE".into()),
            provider: Some("OKTA".into()),
            source: "user:x".into(),
            classification: TargetClass::parse(class).unwrap(),
            detail: detail.into(),
        },
        outcome: Outcome::Pending,
        outcome_reason: None,
        okta_request_id: None,
        outcome_at: None,
        sessions: None,
        sessions_reason: None,
    }
}

fn counted(mut r: RequestRecord, targets: &[TargetRecord]) -> RequestRecord {
    r.resolved_count = targets.len() as i64;
    r.reset_count = targets
        .iter()
        .filter(|t| t.target.classification.is_reset())
        .count() as i64;
    r
}

/// The mrkdwn of each section and context block, in order.
fn texts(m: &Message) -> Vec<String> {
    let blocks = serde_json::to_value(&m.blocks).unwrap();
    let mut out = Vec::new();
    for b in blocks.as_array().unwrap() {
        if b["type"] == "header" {
            continue;
        }
        if let Some(t) = b["text"]["text"].as_str() {
            out.push(t.to_string());
        }
        for e in b["elements"].as_array().into_iter().flatten() {
            if let Some(t) = e["text"].as_str() {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// What must hold for every piece of text: within Slack's limit, every `&` an entity, every line
/// with its code spans closed.
fn assert_well_formed(m: &Message) {
    for t in texts(m) {
        assert!(slack_len(&t) <= SECTION_MAX, "{} units", slack_len(&t));
        for (i, _) in t.match_indices('&') {
            let rest = &t[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;"]
                    .iter()
                    .any(|e| rest.starts_with(e)),
                "broken entity at {:?}",
                rest.chars().take(12).collect::<String>()
            );
        }
        for line in t.lines() {
            assert_eq!(line.matches('`').count() % 2, 0, "open code span: {line}");
        }
    }
}

#[test]
fn a_reason_of_500_ampersands_is_shown_whole_with_no_entity_cut() {
    let reason = "&".repeat(500);
    let cmd = format!("user:a@x.com reason:\"{reason}\"");
    let targets = vec![target(0, "a@x.com", "A", "reset", "")];
    let r = counted(request(&cmd, Some(&reason)), &targets);
    let m = approval(&r, &targets, 0);
    assert_well_formed(&m);
    let about = &texts(&m)[1];
    assert!(
        about.contains(&format!("*Reason:* `{}`", "&amp;".repeat(500))),
        "{about}"
    );
    // What was asked repeats the reason: it gets the room left, shortened before escaping.
    assert!(
        about.contains("*Asked for:* `user:a@x.com reason:\"&amp;"),
        "{about}"
    );
    assert!(about.ends_with("&amp;…`"), "{}", &about[about.len() - 30..]);
    assert!(approval_is_partial(&r, &targets));
}

#[test]
fn eighty_users_and_a_long_reason_keep_the_counts_and_the_sessions_line_first() {
    let logins: Vec<String> = (0..80)
        .map(|i| format!("user{i:02}.with.a.long.login@example.com"))
        .collect();
    let reason = "phishing campaign ".repeat(23)[..400].to_string();
    let cmd = format!(
        "user:{} reason:\"{reason}\" --revoke-sessions",
        logins.join(",")
    );
    let targets: Vec<TargetRecord> = logins
        .iter()
        .enumerate()
        .map(|(i, l)| target(i as i64, l, "Some Person", "reset", ""))
        .collect();
    let mut r = counted(request(&cmd, Some(&reason)), &targets);
    r.revoke_sessions = true;
    let m = approval(&r, &targets, 0);
    assert_well_formed(&m);
    let t = texts(&m);
    assert_eq!(
        t[0],
        "*Resolved 80 user(s):* *80 will reset*\n*Also:* ends each user's Okta sessions (`--revoke-sessions`)"
    );
    assert!(t[1].starts_with("*Requested by* <@U0001>"), "{}", t[1]);
    assert!(t[1].contains(&format!("*Reason:* `{reason}`")), "{}", t[1]);
    assert!(t[2].starts_with("*Will reset:*\n• `user00."), "{}", t[2]);
    assert!(t[2].ends_with("\n…and 70 more"), "{}", t[2]);
    assert!(
        t.iter()
            .any(|x| x.contains("`sha256:dddd") && x.contains("list attached in this thread")),
        "{t:#?}"
    );
}

/// Issue 16: the `--contain` sentence sits with the counts, whole, however long the rest is.
#[test]
fn the_contain_line_sits_with_the_counts_and_survives_truncation() {
    let logins: Vec<String> = (0..200)
        .map(|i| format!("user{i:03}.with.a.rather.long.login@example.com"))
        .collect();
    let reason = "x&<>".repeat(125);
    let cmd = format!("user:{} reason:\"{reason}\" --contain", logins.join(","));
    let targets: Vec<TargetRecord> = logins
        .iter()
        .enumerate()
        .map(|(i, l)| target(i as i64, l, &"Some Person ".repeat(20), "reset", ""))
        .collect();
    let mut r = counted(request(&cmd, Some(&reason)), &targets);
    r.revoke_sessions = true;
    r.contain = true;
    let m = approval(&r, &targets, 0);
    assert_well_formed(&m);
    let t = texts(&m);
    assert_eq!(
        t[0],
        format!(
            "*Resolved 200 user(s):* *200 will reset*\n*Contain:* {CONTAIN_LINE} (`--contain`)"
        )
    );
    assert_eq!(
        CONTAIN_LINE,
        "Also ends every session and OAuth token, and forgets remembered devices."
    );
    assert!(approval_is_partial(&r, &targets));
}

/// Issue 13: a reason with line breaks, bold and code drew fake "*Resolved …*" lines above the
/// real counts. Free text is one line, quoted in a code span, and the counts come first.
#[test]
fn a_reason_cannot_forge_lines_of_the_approval_message() {
    let reason = "ok\n*Resolved 1 user(s):* *1 will reset*\n`code` _x_ ~y~ > quote\r\n\u{2028}• `fake@x.com`";
    let cmd = "group:g reason:\"…\"";
    let targets: Vec<TargetRecord> = (0..30)
        .map(|i| {
            target(
                i,
                &format!("u{i}@x.com"),
                "Eve\n*Resolved 1 user(s):*",
                "reset",
                "",
            )
        })
        .collect();
    let r = counted(request(cmd, Some(reason)), &targets);
    let m = approval(&r, &targets, 0);
    assert_well_formed(&m);
    let t = texts(&m);
    assert!(
        t[0].starts_with("*Resolved 30 user(s):* *30 will reset*"),
        "{}",
        t[0]
    );
    let lines: Vec<&str> = t.iter().flat_map(|x| x.lines()).collect();
    let resolved: Vec<&&str> = lines.iter().filter(|l| l.contains("*Resolved")).collect();
    // The real line, then the forged text only inside code spans, never at a line's start.
    assert_eq!(resolved[0], &t[0].lines().next().unwrap());
    for l in &resolved[1..] {
        assert!(!l.starts_with("*Resolved"), "{l}");
    }
    assert!(
        t[1].contains(
            "*Reason:* `ok *Resolved 1 user(s):* *1 will reset* 'code' _x_ ~y~ &gt; quote   • 'fake@x.com'`"
        ),
        "{}",
        t[1]
    );
    assert!(
        t[2].contains("• `u0@x.com` `Eve *Resolved 1 user(s):*`"),
        "{}",
        t[2]
    );
}

#[test]
fn hostile_and_very_long_input_in_every_field_stays_within_limits() {
    let huge = "<!channel> & `*x*`\n".repeat(400);
    let targets: Vec<TargetRecord> = (0..25)
        .map(|i| {
            let mut t = target(
                i,
                &format!("{huge}{i}@x.com"),
                &huge,
                if i % 2 == 0 { "reset" } else { "skip_status" },
                &huge,
            );
            if i == 3 {
                t.target.source = format!("file:{huge}.csv row 4");
                t.target.okta_id = None;
                t.target.classification = TargetClass::SkipBadRow;
                t.target.detail = format!("row 4: {huge}");
            }
            t
        })
        .collect();
    let mut r = counted(request(&huge, Some(&huge[..500])), &targets);
    r.revoke_sessions = true;
    let m = approval(&r, &targets, 0);
    assert_well_formed(&m);
    let t = texts(&m);
    assert!(
        t[0].contains("*Also:* ends each user's Okta sessions"),
        "{}",
        t[0]
    );
    assert!(t
        .iter()
        .any(|x| x.starts_with("*Will reset:*") && x.ends_with("more")));
    assert!(t
        .iter()
        .any(|x| x.starts_with("*Skipped:*") && x.ends_with("more")));
    assert!(t.iter().all(|x| !x.contains("<!channel>")));

    r.state = State::Stopped;
    r.stop_reason = Some(huge.clone());
    r.decision = Some(Decision {
        decision: DecisionKind::Approved,
        actor: "U0002".parse().unwrap(),
        decided_at: 0,
    });
    let failed: Vec<TargetRecord> = targets
        .into_iter()
        .map(|mut t| {
            t.outcome = Outcome::Failed;
            t.outcome_reason = Some(huge.clone());
            t
        })
        .collect();
    let s = summary(&r, &failed, 0);
    assert_well_formed(&s);
    for m in [approval(&r, &failed, 0), s] {
        assert!(m.blocks.len() <= 50);
        let total: usize = texts(&m).iter().map(|t| slack_len(t)).sum();
        assert!(total < 12_000, "{total} characters of blocks");
    }
}

/// The summary's *Failed* list loses no word to a cut and always says how many it left out.
#[test]
fn the_failed_list_ends_with_how_many_more_when_it_does_not_fit() {
    let mut r = request("group:g", Some("x"));
    r.state = State::Completed;
    let reason = "Okta refused the call (E0000001: Api validation failed: password) ".repeat(4);
    let failed: Vec<TargetRecord> = (0..40)
        .map(|i| {
            let mut t = target(
                i,
                &format!("someone.with.a.long.name{i:02}@example.com"),
                "Someone With A Long Name",
                "reset",
                "",
            );
            t.outcome = Outcome::Failed;
            t.outcome_reason = Some(reason.clone());
            t
        })
        .collect();
    let s = summary(&r, &failed, 0);
    assert_well_formed(&s);
    let t = texts(&s);
    let list = t.iter().find(|x| x.starts_with("*Failed:*")).unwrap();
    let last = list.lines().last().unwrap();
    let shown = list.lines().filter(|l| l.starts_with("• ")).count();
    assert!(shown < FAILED_LISTED, "{shown} lines fit");
    assert_eq!(last, format!("…and {} more", 40 - shown));
    for l in list.lines().filter(|l| l.starts_with("• ")) {
        assert!(l.ends_with(&reason), "a line was cut: {l}");
    }
}

#[test]
fn the_buttons_block_id_changes_with_each_approval() {
    let targets = vec![target(0, "a@x.com", "A", "reset", "")];
    let r = counted(request("user:a@x.com", None), &targets);
    let block_id = |approvers: &[&str]| {
        let s = SignOffs {
            required: 2,
            approvers: approvers.iter().map(|a| a.to_string()).collect(),
            continued_by: None,
        };
        let blocks = serde_json::to_value(&approval_with(&r, &targets, &s, 0).blocks).unwrap();
        let actions: Vec<Value> = blocks
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .cloned()
            .collect();
        assert_eq!(actions.len(), 1);
        actions[0]["block_id"].as_str().unwrap().to_string()
    };
    assert_eq!(block_id(&[]), "decision-0");
    assert_eq!(block_id(&["U0002"]), "decision-1");
}

#[test]
fn the_full_list_is_needed_only_when_the_message_leaves_someone_out() {
    let mut targets: Vec<TargetRecord> = (0..11)
        .map(|i| target(i, &format!("u{i}@x.com"), "U", "reset", ""))
        .collect();
    let r = request("group:x", None);
    assert!(approval_is_partial(&r, &targets), "11 to reset, 10 shown");
    targets.truncate(10);
    assert!(!approval_is_partial(&r, &targets));
    targets.extend((20..31).map(|i| target(i, "x", "x", "skip_status", "wrong status")));
    assert!(approval_is_partial(&r, &targets), "more skipped than shown");
    // Ten skipped users whose lines do not all fit: cut by room, not by count.
    let long: Vec<TargetRecord> = (0..10)
        .map(|i| {
            let amps = "&".repeat(100);
            target(i, &format!("{amps}{i}@x.com"), &amps, "skip_status", &amps)
        })
        .collect();
    assert!(approval_is_partial(&r, &long));
}
