//! The files the bot attaches to a request's thread: the full target list (when the approval
//! message can only preview it) and the results of a run, one row per target. Both are CSV with
//! every cell made safe for spreadsheets (`crate::spreadsheet`).

use crate::clock::format_rfc3339;
use crate::slack::render_notice::notified_cell;
use crate::spreadsheet::csv_bytes;
use crate::store::{NoticeRecord, Outcome, RequestRecord, Sessions, TargetRecord};

/// A file ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    pub filename: String,
    pub title: String,
    pub bytes: Vec<u8>,
    /// Data rows (the header not counted).
    pub rows: usize,
}

pub const RESULTS_HEADER: [&str; 10] = [
    "okta_id",
    "login",
    "email",
    "outcome",
    "reason",
    "okta_request_id",
    "time",
    "sessions_ended",
    // `policy.notify_users`: `yes`, `no: why`, or empty when nobody was to be told.
    "notified",
    "confirmed_in_system_log",
];

pub const TARGETS_HEADER: [&str; 9] = [
    "okta_id",
    "login",
    "email",
    "name",
    "status",
    "provider",
    "source",
    "classification",
    "detail",
];

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// What became of one target, as the results file says it. A call still pending or in flight
/// when the run ended was not attempted (a resumed run reports interrupted calls as failed).
pub fn outcome_label(t: &TargetRecord) -> &'static str {
    match t.outcome {
        Outcome::Reset => "reset",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
        Outcome::Pending | Outcome::InFlight => "not_attempted",
    }
}

/// `--contain` only, for a user reset: `yes` when their sessions, tokens and remembered devices
/// were ended, `no` when not (the reason column says why, or the run ended first). Empty
/// otherwise (no `--contain`, or the user was not reset).
pub fn sessions_ended_label(r: &RequestRecord, t: &TargetRecord) -> &'static str {
    if !r.contain || t.outcome != Outcome::Reset {
        return "";
    }
    match t.sessions {
        Some(Sessions::Ended) => "yes",
        Some(Sessions::NotEnded) | None => "no",
    }
}

/// One row per target: Okta id, login, email, outcome, reason, Okta request id, time, whether
/// the sessions were ended (`--contain`), whether they were told by Slack DM (`notices`: the
/// run's, empty when none were sent), and whether Okta's System Log shows the reset (`yes`,
/// `not yet`, `unknown`; empty when the user was not reset), as `system_log` says.
pub fn results_file<'a>(
    r: &RequestRecord,
    targets: &'a [TargetRecord],
    notices: &[NoticeRecord],
    system_log: impl Fn(&'a TargetRecord) -> &'static str,
) -> CsvFile {
    let rows = targets.iter().map(|t| {
        let reason = match t.outcome {
            // Skipped at run time (changed since approval): what changed; else why at intake.
            Outcome::Skipped => t
                .outcome_reason
                .clone()
                .unwrap_or_else(|| t.target.detail.clone()),
            Outcome::Pending | Outcome::InFlight => "the run ended before this user".to_string(),
            Outcome::Reset if r.contain && t.sessions.is_none() => {
                "reset; the run ended before its sessions were ended".to_string()
            }
            Outcome::Reset if r.contain => opt(&t.sessions_reason),
            Outcome::Reset | Outcome::Failed => opt(&t.outcome_reason),
        };
        vec![
            opt(&t.target.okta_id),
            opt(&t.target.login),
            opt(&t.target.email),
            outcome_label(t).to_string(),
            reason,
            opt(&t.okta_request_id),
            t.outcome_at.map(format_rfc3339).unwrap_or_default(),
            sessions_ended_label(r, t).to_string(),
            notified_cell(notices.iter().find(|n| n.seq == t.seq)),
            system_log(t).to_string(),
        ]
    });
    CsvFile {
        filename: format!("okta-reset-{}-results.csv", r.id),
        title: format!("Results of {}", r.id),
        bytes: csv_bytes(&RESULTS_HEADER, rows),
        rows: targets.len(),
    }
}

/// Every resolved target with its classification: exactly the list the approver approves.
pub fn targets_file(r: &RequestRecord, targets: &[TargetRecord]) -> CsvFile {
    let rows = targets.iter().map(|t| {
        let x = &t.target;
        vec![
            opt(&x.okta_id),
            opt(&x.login),
            opt(&x.email),
            opt(&x.display_name),
            opt(&x.status),
            opt(&x.provider),
            x.source.clone(),
            x.classification.code().to_string(),
            x.detail.clone(),
        ]
    });
    CsvFile {
        filename: format!("okta-reset-{}-targets.csv", r.id),
        title: format!("All targets of {}", r.id),
        bytes: csv_bytes(&TARGETS_HEADER, rows),
        rows: targets.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::request::State;
    use crate::store::{NewTarget, TargetClass};

    fn request() -> RequestRecord {
        RequestRecord {
            id: "R-7K3M9QXD".parse().unwrap(),
            team_id: "T0001".parse().unwrap(),
            channel_id: "C0001".parse().unwrap(),
            requester: "U0001".parse().unwrap(),
            command_text: "group:x".into(),
            reason: None,
            dry_run: false,
            revoke_sessions: false,
            contain: false,
            state: State::Completed,
            digest: "d".into(),
            resolved_count: 4,
            reset_count: 3,
            root_ts: None,
            progress_ts: None,
            summary_ts: None,
            created_at: 0,
            expires_at: 0,
            started_at: None,
            finished_at: None,
            stop_reason: None,
            cancelled_by: None,
            cancelled_at: None,
            continue_ts: None,
            decision: None,
        }
    }

    fn target(seq: i64, login: &str, class: &str, outcome: &str) -> TargetRecord {
        let (class, outcome) = (
            TargetClass::parse(class).unwrap(),
            Outcome::parse(outcome).unwrap(),
        );
        TargetRecord {
            seq,
            target: NewTarget {
                okta_id: Some(format!("00u{seq}")),
                login: Some(login.into()),
                email: Some(format!("{seq}@example.com")),
                display_name: Some("@SUM(A1)".into()),
                status: Some("ACTIVE".into()),
                provider: Some("OKTA".into()),
                source: "group:x".into(),
                classification: class,
                detail: if class.is_reset() {
                    "will reset".into()
                } else {
                    "AD-managed".into()
                },
            },
            outcome,
            outcome_reason: (outcome == Outcome::Failed).then(|| "-E0000001 refused".to_string()),
            okta_request_id: (outcome == Outcome::Reset).then(|| format!("req{seq}")),
            outcome_at: (outcome != Outcome::Skipped && outcome != Outcome::Pending)
                .then_some(1_764_220_631_123),
            sessions: None,
            sessions_reason: None,
        }
    }

    #[test]
    fn the_results_file_has_one_row_per_target_with_formulas_neutralised() {
        let targets = vec![
            target(0, "ann@example.com", "reset", "reset"),
            target(1, "=HYPERLINK(\"http://evil\")", "reset", "failed"),
            target(2, "+bob@example.com", "skip_directory", "skipped"),
            target(3, "cy@example.com", "reset", "pending"),
        ];
        let told = crate::store::NoticeRecord {
            request_id: "R-7K3M9QXD".parse().unwrap(),
            seq: 0,
            state: crate::store::NoticeState::Notified,
            reason: None,
            slack_user: Some("U0009".into()),
            dm_channel: Some("D0009".into()),
            dm_ts: Some("1.2".into()),
            reported_at: None,
        };
        let f = results_file(&request(), &targets, &[told], |t| {
            if t.outcome == Outcome::Reset {
                "yes"
            } else {
                ""
            }
        });
        assert_eq!(f.filename, "okta-reset-R-7K3M9QXD-results.csv");
        assert_eq!(f.rows, 4);
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            "okta_id,login,email,outcome,reason,okta_request_id,time,sessions_ended,notified,confirmed_in_system_log\n\
             00u0,ann@example.com,0@example.com,reset,,req0,2025-11-27T05:17:11.123Z,,yes,yes\n\
             00u1,\"'=HYPERLINK(\"\"http://evil\"\")\",1@example.com,failed,'-E0000001 refused,,2025-11-27T05:17:11.123Z,,,\n\
             00u2,'+bob@example.com,2@example.com,skipped,AD-managed,,,,,\n\
             00u3,cy@example.com,3@example.com,not_attempted,the run ended before this user,,,,,\n"
        );
    }

    #[test]
    fn a_user_skipped_at_run_time_shows_what_changed_not_the_approved_verdict() {
        let mut t = target(0, "ann@example.com", "reset", "skipped");
        t.outcome_reason = Some("changed since approval: status now SUSPENDED (was ACTIVE)".into());
        let text = String::from_utf8(results_file(&request(), &[t], &[], |_| "").bytes).unwrap();
        assert!(
            text.ends_with(
                "00u0,ann@example.com,0@example.com,skipped,changed since approval: status now SUSPENDED (was ACTIVE),,,,,\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_contained_run_says_per_reset_user_whether_their_sessions_were_ended() {
        let mut r = request();
        r.contain = true;
        let mut ended = target(0, "ann@example.com", "reset", "reset");
        ended.sessions = Some(Sessions::Ended);
        let mut kept = target(1, "bo@example.com", "reset", "reset");
        kept.sessions = Some(Sessions::NotEnded);
        kept.sessions_reason = Some("reset, but its sessions could not be ended (503)".into());
        let unreached = target(2, "cy@example.com", "reset", "reset");
        let failed = target(3, "di@example.com", "reset", "failed");
        let text = String::from_utf8(
            results_file(&r, &[ended, kept, unreached, failed], &[], |_| "").bytes,
        )
        .unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert!(
            rows[1].ends_with(",req0,2025-11-27T05:17:11.123Z,yes,,"),
            "{}",
            rows[1]
        );
        assert!(
            rows[2].contains(",reset,\"reset, but its sessions could not be ended (503)\",req1,")
                && rows[2].ends_with(",no,,"),
            "{}",
            rows[2]
        );
        assert!(
            rows[3].contains("reset; the run ended before its sessions were ended")
                && rows[3].ends_with(",no,,"),
            "{}",
            rows[3]
        );
        assert!(rows[4].ends_with(","), "{}", rows[4]);
    }

    #[test]
    fn the_target_list_names_everyone() {
        let targets: Vec<TargetRecord> = (0..11)
            .map(|i| target(i, &format!("u{i}@example.com"), "reset", "pending"))
            .collect();
        let f = targets_file(&request(), &targets);
        let text = String::from_utf8(f.bytes).unwrap();
        assert_eq!(text.lines().count(), 12);
        assert!(text.starts_with(
            "okta_id,login,email,name,status,provider,source,classification,detail\n"
        ));
        assert!(text.contains(
            "00u10,u10@example.com,10@example.com,'@SUM(A1),ACTIVE,OKTA,group:x,reset,will reset\n"
        ));
    }
}
