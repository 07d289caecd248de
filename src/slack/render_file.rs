//! How the rows of an uploaded file show in the approval message: how many rows could not be
//! used and the first few reasons (all of them are stored as targets, so the results list them).

use super::escape::{escape_clipped, one_line, quoted};
use crate::domain::records::{NewTarget, TargetRecord};

/// Unusable rows named in the approval message and in refusals.
pub const REASONS_SHOWN: usize = 5;
/// Longest file name, cell value and reason shown (escaped, quotes included): five rows and the
/// file's name always fit in one section.
const NAME_MAX: usize = 200;
const VALUE_MAX: usize = 120;
const WHY_MAX: usize = 300;

fn value(v: &str) -> String {
    quoted(v, VALUE_MAX).0
}

fn why(text: &str) -> String {
    escape_clipped(&one_line(text), WHY_MAX).0
}

/// Whether a stored target is a row of a file that named no Okta user.
pub fn is_unusable_row(t: &NewTarget) -> bool {
    t.source.starts_with("file:") && t.okta_id.is_none()
}

/// The row number in a `file:NAME row N` source (0 when there is none).
pub fn row_number(source: &str) -> usize {
    source
        .rsplit_once(" row ")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// "row 7 (`bob@x.com`): no Okta user has …" with the value escaped inside a code span.
pub fn reason_with_value(t: &NewTarget) -> String {
    match (&t.login, t.detail.split_once(": ")) {
        (Some(v), Some((row, reason))) => format!("{} ({}): {}", why(row), value(v), why(reason)),
        _ => why(&t.detail),
    }
}

fn unusable_sorted<'a>(targets: impl Iterator<Item = &'a NewTarget>) -> Vec<&'a NewTarget> {
    let mut rows: Vec<&NewTarget> = targets.filter(|t| is_unusable_row(t)).collect();
    rows.sort_by_key(|t| row_number(&t.source));
    rows
}

/// "row 2 (`x`): …; row 5: …; and 3 more" — the first unusable rows, in row order. Escaped.
pub fn first_reasons(targets: &[NewTarget]) -> String {
    let rows = unusable_sorted(targets.iter());
    let mut parts: Vec<String> = rows
        .iter()
        .take(REASONS_SHOWN)
        .map(|t| reason_with_value(t))
        .collect();
    if rows.len() > REASONS_SHOWN {
        parts.push(format!("and {} more", rows.len() - REASONS_SHOWN));
    }
    parts.join("; ")
}

/// The approval message's section on the file, when the request came from one.
pub fn file_section(targets: &[TargetRecord]) -> Option<String> {
    let from_file: Vec<&NewTarget> = targets
        .iter()
        .map(|t| &t.target)
        .filter(|t| t.source.starts_with("file:"))
        .collect();
    let name = from_file
        .first()?
        .source
        .strip_prefix("file:")?
        .rsplit_once(" row ")?
        .0
        .to_string();
    let rows = from_file.len();
    let bad = unusable_sorted(from_file.iter().copied());
    if bad.is_empty() {
        return Some(format!(
            "*From {}:* {rows} row(s), all naming an Okta user.",
            quoted(&name, NAME_MAX).0
        ));
    }
    let mut lines = vec![format!(
        "*From {}:* {rows} row(s); *{} could not be used*:",
        quoted(&name, NAME_MAX).0,
        bad.len()
    )];
    lines.extend(
        bad.iter()
            .take(REASONS_SHOWN)
            .map(|t| format!("• {}", reason_with_value(t))),
    );
    if bad.len() > REASONS_SHOWN {
        lines.push(format!(
            "…and {} more (every row is in the results)",
            bad.len() - REASONS_SHOWN
        ));
    }
    Some(lines.join("\n"))
}

/// "row 2 (`x`): not an Okta user id (…); …; and 3 more" for rows the CSV reader refused.
pub fn row_errors(errors: &[crate::csv_input::RowError]) -> String {
    let mut parts: Vec<String> = errors
        .iter()
        .take(REASONS_SHOWN)
        .map(|e| {
            if e.value.is_empty() {
                why(&e.reason())
            } else {
                format!(
                    "row {} ({}): {}",
                    e.row,
                    value(&e.value),
                    why(&e.problem.to_string())
                )
            }
        })
        .collect();
    if errors.len() > REASONS_SHOWN {
        parts.push(format!("and {} more", errors.len() - REASONS_SHOWN));
    }
    parts.join("; ")
}
