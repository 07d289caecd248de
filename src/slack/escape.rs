//! The one escaping function for text that came from a person, a CSV or Okta. Slack treats `<…>`
//! as links and mentions (`<!channel>`, `<@U…>`), and `&` as the start of an entity; escaped, they
//! show as typed and notify nobody.
//!
//! Free text (a reason, a file name, an Okta display name) must also never look like the bot's
//! own message: `quoted` puts it on one line, inside a code span (where Slack applies no bold,
//! italics, strike-through, quotes or links), so a reason cannot draw fake "*Resolved …*" lines.
//! Long text is shortened *before* escaping, at a character boundary, so a cut never splits an
//! entity (`&a`) or drops a closing backtick.

/// Slack's text limits are in characters; counted here in UTF-16 units, which is never fewer.
pub fn slack_len(text: &str) -> usize {
    text.encode_utf16().count()
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

/// Line breaks, tabs and other control characters (and Unicode's line and paragraph
/// separators) as one space each: free text stays on the line the bot gave it.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `text` escaped, shortened (before escaping, at a character boundary) so that the escaped
/// form with its "…" takes at most `max` (≥ 1) units; and whether it was shortened.
pub fn escape_clipped(text: &str, max: usize) -> (String, bool) {
    if slack_len(&escape(text)) <= max {
        return (escape(text), false);
    }
    let budget = max.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let mut piece = String::new();
        push_escaped(&mut piece, c);
        let n = slack_len(&piece);
        if used + n > budget {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    out.push('…');
    (out, true)
}

/// Escapes and wraps in a code span, on one line, dropping backticks that would end it early.
pub fn code(text: &str) -> String {
    quoted(text, usize::MAX).0
}

/// Free text as an inert, quoted piece of mrkdwn: one line, backticks as `'`, escaped, inside a
/// code span, the whole at most `max` units (shortened with "…"); and whether it was shortened.
pub fn quoted(text: &str, max: usize) -> (String, bool) {
    let plain = one_line(text).replace('`', "'");
    let (inner, cut) = escape_clipped(&plain, max.saturating_sub(2));
    (format!("`{inner}`"), cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mentions_links_and_entities_are_neutralised() {
        assert_eq!(
            escape("<!channel> & <@U0002>"),
            "&lt;!channel&gt; &amp; &lt;@U0002&gt;"
        );
        assert_eq!(escape("<https://evil|click>"), "&lt;https://evil|click&gt;");
        assert_eq!(code("a`b<"), "`a'b&lt;`");
    }

    #[test]
    fn free_text_stays_on_one_line_inside_its_quotes() {
        assert_eq!(
            code("x\n*Resolved 1 user(s):* *1 will reset*\r\n`y`\u{2028}z\t"),
            "`x *Resolved 1 user(s):* *1 will reset*  'y' z `"
        );
    }

    #[test]
    fn a_cut_never_splits_an_entity_or_a_code_span() {
        let (e, cut) = escape_clipped(&"&".repeat(500), 12);
        assert_eq!((e.as_str(), cut), ("&amp;&amp;…", true));
        let (q, cut) = quoted(&"&".repeat(500), 14);
        assert_eq!((q.as_str(), cut), ("`&amp;&amp;…`", true));
        assert_eq!(quoted("short", 14), ("`short`".to_string(), false));
        // Units, not bytes: an emoji counts two, "é" one.
        assert_eq!(slack_len("é😀"), 3);
        assert_eq!(escape_clipped("😀😀😀", 5), ("😀😀…".to_string(), true));
    }

    proptest! {
        #[test]
        fn escaped_text_has_no_angle_brackets_and_only_entity_ampersands(s in ".*") {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>'));
            let without = e.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "");
            prop_assert!(!without.contains('&'));
        }

        #[test]
        fn quoted_text_is_one_closed_code_span_within_its_budget(s in ".*", max in 3usize..200) {
            let (q, cut) = quoted(&s, max);
            prop_assert!(slack_len(&q) <= max, "{} > {max}", slack_len(&q));
            prop_assert_eq!(cut, q != code(&s));
            prop_assert!(q.starts_with('`') && q.ends_with('`'));
            prop_assert_eq!(q.matches('`').count(), 2);
            prop_assert!(!q.contains('\n') && !q.contains('\r'));
            let without = q.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "");
            prop_assert!(!without.contains('&') && !without.contains('<'));
        }
    }
}
