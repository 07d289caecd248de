//! A user search typed as `search:'profile.department eq "Sales"'`, checked before it goes near
//! Okta: length capped, every value in balanced double quotes, attributes well-formed, operators
//! from a fixed set, parentheses balanced, comparisons joined by `and`/`or`. What is sent is not
//! the typed text but a canonical form rebuilt from the parsed pieces, with every value's quotes
//! and backslashes escaped again — nothing typed can reach Okta outside a quoted value.
//!
//! The operators are those Okta's spec documents for `GET /api/v1/users?search=` (`listUsers`,
//! management spec 2026.06.3): `eq`, `sw` and `co` — `co` only on `profile.firstName`,
//! `profile.lastName`, `profile.email` and `profile.login` — and `gt`/`lt`, which the same text
//! uses in its examples and as the way round `ne` ("isn't supported"). `ge`, `le` and `pr` are
//! Okta filter operators the search description never mentions: they are refused here too, with
//! the documented way to say the same, because a search Okta refuses can only be corrected by the
//! requester, and an answer before Okta is asked is clearer than Okta's "Invalid search criteria".

use std::fmt;

use super::ids::clip_for_display;

/// Longest accepted expression, in characters.
pub const MAX_SEARCH_CHARS: usize = 512;
/// Operators Okta's user search documents, as the bot passes them on.
pub const OPERATORS: [&str; 5] = ["eq", "sw", "co", "gt", "lt"];
/// The only attributes Okta's user search allows `co` on (property names are case-sensitive).
pub const CONTAINS_ATTRIBUTES: [&str; 4] = [
    "profile.firstName",
    "profile.lastName",
    "profile.email",
    "profile.login",
];
const MAX_DEPTH: usize = 8;

/// A validated expression, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchExpr(String);

impl SearchExpr {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SearchExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("the search is empty; write it as search:'profile.department eq \"Sales\"'")]
    Empty,
    #[error("the search is {chars} characters long; keep it to {max} or fewer", max = MAX_SEARCH_CHARS)]
    TooLong { chars: usize },
    #[error("a double quote in the search is never closed; put each value in a pair of double quotes, e.g. profile.department eq \"Sales\"")]
    UnbalancedQuote,
    #[error("`{op}` is not a search operator I accept; use eq, sw, co, gt or lt")]
    UnsupportedOperator { op: String },
    /// An operator Okta's user search does not support, with the documented way to say the same.
    #[error("Okta's user search does not support `{op}`; write {instead} instead")]
    OktaUnsupported { op: String, instead: String },
    #[error("Okta's user search allows `co` only on profile.firstName, profile.lastName, profile.email and profile.login, not on `{attr}`; use sw (starts with) or eq instead")]
    ContainsNotAllowed { attr: String },
    #[error("the parentheses in the search do not balance")]
    UnbalancedParens,
    #[error("the search has `{found}` where an attribute such as profile.department should be")]
    ExpectedAttribute { found: String },
    #[error("`{attr}` needs an operator after it, e.g. {attr} eq \"…\"")]
    MissingOperator { attr: String },
    #[error("the value after `{attr} {op}` must be in double quotes, e.g. {attr} {op} \"Sales\"")]
    ExpectedValue { attr: String, op: String },
    #[error("`{found}` cannot follow a comparison; join comparisons with and / or")]
    ExpectedJoin { found: String },
    #[error("the search ends after `and`/`or`; add the comparison that should follow")]
    Dangling,
    #[error("the search contains `{c}`, which is not allowed outside a quoted value")]
    BadCharacter { c: String },
    #[error(
        "a value in the search has a backslash before `{c}`; only \\\" and \\\\ may be escaped"
    )]
    BadEscape { c: String },
    #[error("the search nests parentheses more than {MAX_DEPTH} deep")]
    TooDeep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, SearchError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' => {
                chars.next();
                out.push(if c == '(' { Tok::Open } else { Tok::Close });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(SearchError::UnbalancedQuote),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => s.push(e),
                            Some(other) => {
                                return Err(SearchError::BadEscape {
                                    c: clip_for_display(&other.to_string()),
                                })
                            }
                            None => return Err(SearchError::UnbalancedQuote),
                        },
                        Some(ch) => s.push(ch),
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_alphanumeric() || c == '_' || c == '.' => {
                let mut w = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_ascii_alphanumeric() || ch == '_' || ch == '.' {
                        w.push(ch);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(w));
            }
            other => {
                return Err(SearchError::BadCharacter {
                    c: clip_for_display(&other.to_string()),
                })
            }
        }
    }
    Ok(out)
}

fn is_attribute(w: &str) -> bool {
    w.starts_with(|c: char| c.is_ascii_alphabetic())
        && !w.ends_with('.')
        && !w.contains("..")
        && !["and", "or", "not"].contains(&w.to_ascii_lowercase().as_str())
}

fn shown(t: Option<&Tok>) -> String {
    clip_for_display(&match t {
        Some(Tok::Word(w)) => w.clone(),
        Some(Tok::Str(s)) => format!("\"{s}\""),
        Some(Tok::Open) => "(".into(),
        Some(Tok::Close) => ")".into(),
        None => String::new(),
    })
}

/// Filter operators Okta's user search does not support, each refused with its way round.
const WAYS_ROUND: [&str; 4] = ["ne", "ge", "le", "pr"];

/// The refusal of `attr op "v"` (`ne`, `ge`, `le`, `pr`), naming what to write instead: for `ne`
/// the form Okta's spec gives, `(attr lt "v" or attr gt "v")`.
fn unsupported(attr: &str, op: &str, v: Option<&str>) -> SearchError {
    let v = v.map(|v| clip_for_display(&quote(v))).unwrap_or_default();
    let attr = clip_for_display(attr);
    let instead = match op {
        "ne" => format!("`({attr} lt {v} or {attr} gt {v})`"),
        "ge" => format!("`({attr} gt {v} or {attr} eq {v})`"),
        "le" => format!("`({attr} lt {v} or {attr} eq {v})`"),
        _ => format!("a comparison with a value, e.g. `{attr} sw \"a\"`"),
    };
    SearchError::OktaUnsupported {
        op: op.to_string(),
        instead,
    }
}

/// `"…"` with `\` and `"` escaped, as Okta reads a value.
fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    out: Vec<String>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn join(&mut self) -> Option<&'static str> {
        match self.peek() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("and") => Some("and"),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("or") => Some("or"),
            _ => None,
        }
    }

    fn expr(&mut self, depth: usize) -> Result<(), SearchError> {
        if depth > MAX_DEPTH {
            return Err(SearchError::TooDeep);
        }
        self.term(depth)?;
        while let Some(j) = self.join() {
            self.pos += 1;
            self.out.push(j.to_string());
            if self.peek().is_none() {
                return Err(SearchError::Dangling);
            }
            self.term(depth)?;
        }
        Ok(())
    }

    fn term(&mut self, depth: usize) -> Result<(), SearchError> {
        match self.peek().cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                self.out.push("(".into());
                self.expr(depth + 1)?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(match self.peek() {
                        None => SearchError::UnbalancedParens,
                        t => SearchError::ExpectedJoin { found: shown(t) },
                    });
                }
                self.pos += 1;
                self.out.push(")".into());
                Ok(())
            }
            Some(Tok::Word(attr)) if is_attribute(&attr) => {
                self.pos += 1;
                let op = match self.peek() {
                    Some(Tok::Word(op)) => op.to_ascii_lowercase(),
                    _ => {
                        return Err(SearchError::MissingOperator {
                            attr: clip_for_display(&attr),
                        })
                    }
                };
                if !OPERATORS.contains(&op.as_str()) && !WAYS_ROUND.contains(&op.as_str()) {
                    return Err(SearchError::UnsupportedOperator {
                        op: clip_for_display(&op),
                    });
                }
                self.pos += 1;
                if op == "pr" {
                    return Err(unsupported(&attr, &op, None));
                }
                match self.peek().cloned() {
                    Some(Tok::Str(v)) => {
                        self.pos += 1;
                        if WAYS_ROUND.contains(&op.as_str()) {
                            return Err(unsupported(&attr, &op, Some(&v)));
                        }
                        if op == "co" && !CONTAINS_ATTRIBUTES.contains(&attr.as_str()) {
                            return Err(SearchError::ContainsNotAllowed {
                                attr: clip_for_display(&attr),
                            });
                        }
                        self.out.push(format!("{attr} {op} {}", quote(&v)));
                        Ok(())
                    }
                    _ => Err(SearchError::ExpectedValue {
                        attr: clip_for_display(&attr),
                        op,
                    }),
                }
            }
            Some(Tok::Close) => Err(SearchError::UnbalancedParens),
            t => Err(SearchError::ExpectedAttribute {
                found: shown(t.as_ref()),
            }),
        }
    }
}

/// Joins the parsed pieces with one space, none after `(` or before `)`. Done piece by piece,
/// never by rewriting the joined text, so a value such as `" )"` reaches Okta exactly as typed.
fn canonical(pieces: &[String]) -> String {
    let mut out = String::new();
    for piece in pieces {
        if !(out.is_empty() || out.ends_with('(') || piece == ")") {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out
}

impl SearchExpr {
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(SearchError::Empty);
        }
        if chars > MAX_SEARCH_CHARS {
            return Err(SearchError::TooLong { chars });
        }
        let toks = tokenize(text)?;
        let mut p = Parser {
            toks,
            pos: 0,
            out: Vec::new(),
        };
        p.expr(0)?;
        match p.peek() {
            None => {}
            Some(Tok::Close) => return Err(SearchError::UnbalancedParens),
            t => return Err(SearchError::ExpectedJoin { found: shown(t) }),
        }
        Ok(SearchExpr(canonical(&p.out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> String {
        SearchExpr::parse(s).unwrap().to_string()
    }

    #[test]
    fn canonical_form_rebuilds_and_escapes() {
        assert_eq!(
            ok(r#"profile.department eq "Sales""#),
            r#"profile.department eq "Sales""#
        );
        assert_eq!(
            ok(
                r#"  profile.department EQ "Sales"  AND (status eq "ACTIVE" or status eq "LOCKED_OUT")"#
            ),
            r#"profile.department eq "Sales" and (status eq "ACTIVE" or status eq "LOCKED_OUT")"#
        );
        assert_eq!(
            ok(r#"profile.title eq "say \"hi\" \\o/""#),
            r#"profile.title eq "say \"hi\" \\o/""#
        );
        assert_eq!(
            ok(r#"profile.login CO "smith" or profile.email co "@x.com""#),
            r#"profile.login co "smith" or profile.email co "@x.com""#
        );
        // Parentheses and spaces inside a value are the admin's, not the grammar's.
        assert_eq!(
            ok(r#"(profile.department eq " )" or profile.title eq "( x ( ")"#),
            r#"(profile.department eq " )" or profile.title eq "( x ( ")"#
        );
        assert_eq!(
            ok(r#"lastUpdated gt "2026-01-01T00:00:00.000Z""#),
            r#"lastUpdated gt "2026-01-01T00:00:00.000Z""#
        );
    }

    #[test]
    fn each_bad_expression_gets_its_own_answer() {
        use SearchError::*;
        let cases: Vec<(&str, SearchError)> = vec![
            ("", Empty),
            (r#"profile.department eq "Sales"#, UnbalancedQuote),
            (
                r#"profile.department like "Sales""#,
                UnsupportedOperator { op: "like".into() },
            ),
            (
                r#"profile.department = "Sales""#,
                BadCharacter { c: "=".into() },
            ),
            (r#"(profile.department eq "Sales""#, UnbalancedParens),
            (r#"profile.department eq "Sales")"#, UnbalancedParens),
            (
                r#"profile.department eq Sales"#,
                ExpectedValue {
                    attr: "profile.department".into(),
                    op: "eq".into(),
                },
            ),
            (
                r#"profile.department eq "a" "b""#,
                ExpectedJoin {
                    found: "\"b\"".into(),
                },
            ),
            (r#"profile.department eq "a" and"#, Dangling),
            (
                r#"not status eq "ACTIVE""#,
                ExpectedAttribute {
                    found: "not".into(),
                },
            ),
            (
                r#"profile.department"#,
                MissingOperator {
                    attr: "profile.department".into(),
                },
            ),
            (r#"status eq "a\nb""#, BadEscape { c: "n".into() }),
            ("((((((((((status pr))))))))))", TooDeep),
        ];
        for (text, want) in cases {
            assert_eq!(SearchExpr::parse(text), Err(want), "{text}");
        }
        let long = format!("profile.department eq \"{}\"", "x".repeat(600));
        assert!(matches!(
            SearchExpr::parse(&long),
            Err(TooLong { chars: 624 })
        ));
        assert_eq!(
            UnsupportedOperator { op: "like".into() }.to_string(),
            "`like` is not a search operator I accept; use eq, sw, co, gt or lt"
        );
    }

    /// Okta's spec for `listUsers`' `search`: `ne` "isn't supported" (use `lt … or … gt`), `co`
    /// only on four profile attributes; `ge`, `le` and `pr` are not documented for search.
    #[test]
    fn what_okta_search_refuses_is_refused_with_what_to_write_instead() {
        let refusal = |s: &str| SearchExpr::parse(s).unwrap_err().to_string();
        assert_eq!(
            refusal(r#"profile.department ne "Sales""#),
            "Okta's user search does not support `ne`; write `(profile.department lt \"Sales\" or profile.department gt \"Sales\")` instead"
        );
        assert_eq!(
            refusal(r#"status eq "ACTIVE" and profile.department co "Sal""#),
            "Okta's user search allows `co` only on profile.firstName, profile.lastName, profile.email and profile.login, not on `profile.department`; use sw (starts with) or eq instead"
        );
        // Property names are case-sensitive in Okta: `profile.Login` is not `profile.login`.
        assert!(matches!(
            SearchExpr::parse(r#"profile.Login co "a""#),
            Err(SearchError::ContainsNotAllowed { .. })
        ));
        assert_eq!(
            refusal(r#"created GE "2026-01-01T00:00:00.000Z""#),
            "Okta's user search does not support `ge`; write `(created gt \"2026-01-01T00:00:00.000Z\" or created eq \"2026-01-01T00:00:00.000Z\")` instead"
        );
        assert!(refusal(r#"created le "2026""#)
            .contains("`(created lt \"2026\" or created eq \"2026\")`"));
        assert_eq!(
            refusal("profile.mobilePhone pr"),
            "Okta's user search does not support `pr`; write a comparison with a value, e.g. `profile.mobilePhone sw \"a\"` instead"
        );
        // What the spec shows is accepted: eq, sw, co on the four, gt and lt.
        for fine in [
            r#"(status lt "STAGED" or status gt "STAGED")"#,
            r#"profile.firstName co "an" and profile.lastName co "x""#,
            r#"profile.department sw "Sal""#,
        ] {
            assert!(SearchExpr::parse(fine).is_ok(), "{fine}");
        }
    }

    proptest! {
        #[test]
        fn any_value_round_trips_inside_its_quotes(v in ".{0,40}", op in prop::sample::select(vec!["eq", "sw", "co", "gt", "lt"])) {
            let attr = if op == "co" { "profile.login" } else { "profile.department" };
            let typed = format!("{attr} {op} {}", quote(&v));
            let e = SearchExpr::parse(&typed).unwrap();
            prop_assert_eq!(e.as_str(), typed.as_str());
            // Canonical text parses back to itself.
            prop_assert_eq!(SearchExpr::parse(e.as_str()).unwrap(), e);
        }

        #[test]
        fn never_panics(s in ".{0,80}") {
            if let Err(e) = SearchExpr::parse(&s) {
                prop_assert!(e.to_string().chars().count() < 300);
            }
        }
    }
}
