//! The one escaping function for text that came from a person, a CSV or Okta. Slack treats `<…>`
//! as links and mentions (`<!channel>`, `<@U…>`), and `&` as the start of an entity; escaped, they
//! show as typed and notify nobody.

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes and wraps in a code span, dropping backticks that would end it early.
pub fn code(text: &str) -> String {
    format!("`{}`", escape(&text.replace('`', "'")))
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

    proptest! {
        #[test]
        fn escaped_text_has_no_angle_brackets_and_only_entity_ampersands(s in ".*") {
            let e = escape(&s);
            prop_assert!(!e.contains('<') && !e.contains('>'));
            let without = e.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "");
            prop_assert!(!without.contains('&'));
        }
    }
}
