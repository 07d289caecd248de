//! Undoing Slack's encoding of typed text, and splitting it into tokens.

use super::CommandError;
use crate::domain::ids::clip_for_display;

/// The text as the user typed it, from the form Slack delivers:
///
/// - `<mailto:a@x.com|a@x.com>`, `<http://x.com|x.com>` and `<http://…>` (Slack's auto-links)
///   become what was typed: the label when it shows the address, else the address without
///   `mailto:` / the URL. A label that hides a different address (`<https://host/path|label>`,
///   a formatted link) becomes `label (https://host/path)`: the approver must see where a link
///   in a reason goes, not only its words. Other `<…>` markup (`<@U123>` mentions and the like)
///   is left alone, so it fails to parse visibly.
/// - `&amp;`, `&lt;`, `&gt;` become `&`, `<`, `>` — in one pass, so a typed `&lt;` (sent as
///   `&amp;lt;`) stays `&lt;`. Links are unwrapped first: a real `<` typed by the user arrives
///   escaped and is never mistaken for a link.
/// - Curly quotes from macOS/iOS "smart quotes" become straight ones: `“ ” „ ‟` → `"`, `‘ ’ ‚ ‛` → `'`.
pub fn normalize_slack_text(text: &str) -> String {
    let unlinked = unwrap_links(text);
    let mut out = String::with_capacity(unlinked.len());
    let mut rest = unlinked.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '&' {
            let entity = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')]
                .into_iter()
                .find(|(entity, _)| rest.starts_with(entity));
            if let Some((entity, plain)) = entity {
                out.push(plain);
                rest = &rest[entity.len()..];
                continue;
            }
        }
        out.push(match c {
            '“' | '”' | '„' | '‟' => '"',
            '‘' | '’' | '‚' | '‛' => '\'',
            other => other,
        });
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn unwrap_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(['<', '>']) {
            Some(close) if after[close..].starts_with('>') => {
                let inner = &after[..close];
                match link_text(inner) {
                    Some(plain) => out.push_str(&plain),
                    None => {
                        out.push('<');
                        out.push_str(inner);
                        out.push('>');
                    }
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a Slack link `<target|label>` stood for in the typed text, if `inner` is a link at all.
fn link_text(inner: &str) -> Option<String> {
    let (target, label) = match inner.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (inner, None),
    };
    let (scheme, address) = target.split_once(':')?;
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return None;
    }
    let mailto = scheme.eq_ignore_ascii_case("mailto");
    let shown = if mailto { address } else { target };
    match label {
        Some(label) if !label.is_empty() => {
            // What Slack's auto-link shows for a typed address: the text itself, for a web
            // address typed without its scheme, the part after `//`.
            let bare = address.trim_start_matches("//");
            let same = [shown, bare, bare.trim_end_matches('/')]
                .iter()
                .any(|a| label.eq_ignore_ascii_case(a));
            Some(if same {
                label.to_string()
            } else {
                format!("{label} ({shown})")
            })
        }
        _ => Some(shown.to_string()),
    }
}

/// One whitespace-separated word of normalised text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    /// As written (quotes and escapes included), for error messages.
    pub raw: String,
    /// With quotes removed and escapes applied: what the grammar reads.
    pub text: String,
}

impl Token {
    /// `raw`, clipped for echoing in an error message.
    pub fn shown(&self) -> String {
        clip_for_display(&self.raw)
    }
}

/// Splits on whitespace outside double quotes. Quotes may open anywhere in a word
/// (`group:"Sales Team"`); inside them `\"` is a quote and `\\` a backslash, and any other
/// backslash is literal. Outside quotes a backslash is literal.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, CommandError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(start, _)) = chars.peek() else {
            return Ok(tokens);
        };
        let mut word = String::new();
        let mut in_quotes = false;
        let mut end = text.len();
        // `search:'…'`: an Okta expression is full of double quotes, so it may be wrapped in
        // single quotes instead; inside them only `\'` is special (a literal `'`).
        if text[start..]
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("search:'"))
        {
            for _ in 0..8 {
                if let Some((_, c)) = chars.next() {
                    word.push(c);
                }
            }
            word.pop(); // the opening quote
            let mut closed = false;
            while let Some((_, c)) = chars.next() {
                match c {
                    '\\' if chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                        chars.next();
                        word.push('\'');
                    }
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => word.push(c),
                }
            }
            if !closed {
                return Err(CommandError::UnterminatedSearch {
                    token: clip_for_display(&text[start..]),
                });
            }
        }
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => in_quotes = !in_quotes,
                '\\' if in_quotes => match chars.next_if(|&(_, n)| n == '"' || n == '\\') {
                    Some((_, escaped)) => word.push(escaped),
                    None => word.push('\\'),
                },
                c if c.is_whitespace() && !in_quotes => {
                    end = i;
                    break;
                }
                c => word.push(c),
            }
        }
        if in_quotes {
            return Err(CommandError::UnterminatedQuote {
                token: clip_for_display(&text[start..]),
            });
        }
        tokens.push(Token {
            raw: text[start..end].to_owned(),
            text: word,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).unwrap().into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn entities_are_decoded_once() {
        assert_eq!(normalize_slack_text("a &amp; b &lt;c&gt;"), "a & b <c>");
        // The user typed `&lt;`; Slack sent `&amp;lt;`.
        assert_eq!(normalize_slack_text("&amp;lt;"), "&lt;");
        assert_eq!(normalize_slack_text("AT&T &amp"), "AT&T &amp");
    }

    #[test]
    fn links_become_what_was_typed() {
        let n = normalize_slack_text;
        assert_eq!(n("user:<mailto:a@x.com|a@x.com>"), "user:a@x.com");
        assert_eq!(n("<mailto:a@x.com>"), "a@x.com");
        assert_eq!(n("<http://x.com|x.com>"), "x.com");
        assert_eq!(
            n("<https://x.com/a?b=1&amp;c=2>"),
            "https://x.com/a?b=1&c=2"
        );
        assert_eq!(n("<mailto:a@x.com|>"), "a@x.com");
        assert_eq!(n("<https://x.com/|x.com>"), "x.com");
        // A label that hides its address keeps the address beside it (issue 12: the approver
        // saw "the ticket" and not where it led).
        assert_eq!(
            n("reason:\"see <https://evil.example/a?b=1&amp;c=2|the ticket>\""),
            "reason:\"see the ticket (https://evil.example/a?b=1&c=2)\""
        );
        assert_eq!(
            n("<mailto:eve@evil.example|bob@x.com>"),
            "bob@x.com (eve@evil.example)"
        );
        // Not links: mentions, stray brackets, brackets escaped by Slack.
        assert_eq!(n("<@U0001|bob>"), "<@U0001|bob>");
        assert_eq!(n("a < b <c"), "a < b <c");
        assert_eq!(n("<<mailto:a@x.com>"), "<a@x.com");
        assert_eq!(n("&lt;mailto:a@x.com&gt;"), "<mailto:a@x.com>");
    }

    #[test]
    fn smart_quotes_straighten() {
        assert_eq!(
            normalize_slack_text("group:“Sales Team” reason:‘O’Brien’"),
            "group:\"Sales Team\" reason:'O'Brien'"
        );
    }

    #[test]
    fn tokens_split_on_whitespace_outside_quotes() {
        assert_eq!(texts("  a\tb\n c  "), ["a", "b", "c"]);
        assert_eq!(texts("group:\"Sales  Team\" x"), ["group:Sales  Team", "x"]);
        assert_eq!(texts(r#"a"b c"d"#), ["ab cd"]);
        assert_eq!(texts("\"\""), [""]);
        assert_eq!(texts("a\u{a0}b"), ["a", "b"]);
        assert!(texts("   ").is_empty());
    }

    #[test]
    fn escapes_inside_quotes_only() {
        assert_eq!(texts(r#"r:"say \"hi\"""#), [r#"r:say "hi""#]);
        assert_eq!(texts(r#"r:"a\\" b"#), [r"r:a\", "b"]);
        assert_eq!(texts(r#"r:"a\nb""#), [r"r:a\nb"]);
        assert_eq!(texts(r"a\b"), [r"a\b"]);
    }

    #[test]
    fn raw_keeps_quotes_for_messages() {
        let tokens = tokenize("group:\"A B\"  next").unwrap();
        assert_eq!(tokens[0].raw, "group:\"A B\"");
        assert_eq!(tokens[1].raw, "next");
    }

    #[test]
    fn unterminated_quote_names_the_rest() {
        let err = tokenize("user:a group:\"Sales Team --dry-run").unwrap_err();
        assert_eq!(
            err,
            CommandError::UnterminatedQuote {
                token: "group:\"Sales Team --dry-run".into()
            }
        );
        assert!(matches!(
            tokenize(r#"x:"a\""#),
            Err(CommandError::UnterminatedQuote { .. })
        ));
    }
}
