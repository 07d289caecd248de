//! Fitting messages into Slack's limits by priority. A section's text may hold 3000 characters:
//! what the approver decides on (counts, options, requester, reason) is built to fit whole; lists
//! are filled line by line and end with "…and N more" when they stop early; free text in a line
//! is shortened before escaping (`escape::quoted`), so no cut ever splits an entity or a code
//! span. `fit_section` is only the last guard, and it cuts whole lines.

use super::escape::slack_len;

/// Slack's limit for a section block's text.
pub const SECTION_MAX: usize = 3000;

/// A section's text no longer than `SECTION_MAX`: the lines that fit, then "…". Messages are
/// built to fit, so this only guards against a mistake; it never cuts inside a line (where it
/// could split an entity or leave a code span open) unless one line alone is too long, and then
/// it cuts before the last `&` or backtick that would be left open.
pub fn fit_section(text: String) -> String {
    if slack_len(&text) <= SECTION_MAX {
        return text;
    }
    let mut out = String::new();
    for line in text.split('\n') {
        if slack_len(&out) + slack_len(line) + 2 > SECTION_MAX {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    if out.is_empty() {
        return cut_line(&text);
    }
    out.push('…');
    out
}

/// One over-long line cut at a character boundary, without an open entity or code span.
fn cut_line(line: &str) -> String {
    let mut out = String::new();
    for c in line.chars() {
        if slack_len(&out) + c.len_utf16() + 2 > SECTION_MAX {
            break;
        }
        out.push(c);
    }
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    if out.matches('`').count() % 2 == 1 {
        out.push('`');
    }
    out.push('…');
    out
}

/// `heading`, then as many of `lines` as fit in `budget` characters, then "…and N more" for the
/// rest of `total` (which may be more than `lines`: only the first few are ever built). Returns
/// the text and whether anyone was left out.
pub fn bounded_list(
    heading: &str,
    lines: &[String],
    total: usize,
    budget: usize,
) -> (String, bool) {
    // Room kept for the "…and N more" line, which the list always ends with when cut.
    let more = |n: usize| format!("\n…and {n} more");
    let reserve = slack_len(&more(total));
    let mut out = heading.to_string();
    let mut shown = 0;
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == total;
        let room = if last {
            budget
        } else {
            budget - reserve.min(budget)
        };
        if slack_len(&out) + 1 + slack_len(line) > room {
            break;
        }
        out.push('\n');
        out.push_str(line);
        shown += 1;
    }
    let cut = shown < total;
    if cut {
        out.push_str(&more(total - shown));
    }
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_ends_with_how_many_more_when_it_stops_early() {
        let lines: Vec<String> = (0..5).map(|i| format!("• user{i}")).collect();
        assert_eq!(
            bounded_list("*Failed:*", &lines, 5, 1000),
            (
                "*Failed:*\n• user0\n• user1\n• user2\n• user3\n• user4".into(),
                false
            )
        );
        // Only the first three were built, of 40.
        assert_eq!(
            bounded_list("*Failed:*", &lines[..3], 40, 1000),
            (
                "*Failed:*\n• user0\n• user1\n• user2\n…and 37 more".into(),
                true
            )
        );
        // Cut by room: what is shown plus its "…and N more" fits.
        let (text, cut) = bounded_list("*Failed:*", &lines, 5, 40);
        assert!(cut);
        assert!(slack_len(&text) <= 40, "{text}");
        assert!(text.ends_with("more"), "{text}");
        assert_eq!(text, "*Failed:*\n• user0\n• user1\n…and 3 more");
    }

    #[test]
    fn the_last_guard_cuts_whole_lines_or_closes_what_it_opened() {
        let long = format!("*A:* ok\n{}", "&amp;".repeat(700));
        assert_eq!(fit_section(long), "*A:* ok\n…");
        let one = format!("`{}`", "&amp;".repeat(700));
        let cut = fit_section(one);
        assert!(slack_len(&cut) <= SECTION_MAX);
        assert!(cut.ends_with("&amp;`…"), "{}", &cut[cut.len() - 20..]);
        assert_eq!(cut.matches('`').count(), 2);
    }
}
