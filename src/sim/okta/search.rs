//! Okta filter/search expressions: `profile.login eq "x" and (status eq "ACTIVE" or id sw "00u")`.
//!
//! Grammar (keywords and operators case-insensitive, `and` binds tighter than `or`):
//! ```text
//! expr    := and ("or" and)*
//! and     := primary ("and" primary)*
//! primary := "(" expr ")" | ATTR OP STRING | ATTR "pr"
//! OP      := eq | ne | sw | co | gt | ge | lt | le
//! ```
//! Strings are double-quoted with `\"` and `\\` escapes. String comparisons ignore case.

use thiserror::Error;

const MAX_DEPTH: usize = 32;
/// Attributes a user search may use `co` on.
const USER_CONTAINS_ATTRS: [&str; 4] = [
    "profile.firstName",
    "profile.lastName",
    "profile.email",
    "profile.login",
];

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid search criteria: {0}")]
pub struct SearchError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Sw,
    Co,
    Gt,
    Ge,
    Lt,
    Le,
    Pr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Cmp { attr: String, op: Op, value: String },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Parses an expression; `known` says which attribute names exist (others are an error, like
    /// Okta's 400 for an unknown attribute).
    pub fn parse(input: &str, known: &dyn Fn(&str) -> bool) -> Result<Expr, SearchError> {
        let tokens = tokenize(input)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            known,
        };
        let expr = p.expr(0)?;
        if p.pos != p.tokens.len() {
            return Err(SearchError(format!("unexpected token at {}", p.pos)));
        }
        Ok(expr)
    }

    /// What Okta's user search (`GET /api/v1/users?search=`) refuses in an expression that
    /// parses: its spec says `ne` "isn't supported" and `co` works only on `profile.firstName`,
    /// `profile.lastName`, `profile.email` and `profile.login`. The first such comparison, as the
    /// cause of the 400.
    pub fn unsupported_in_user_search(&self) -> Option<String> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a
                .unsupported_in_user_search()
                .or_else(|| b.unsupported_in_user_search()),
            Expr::Cmp { op: Op::Ne, .. } => {
                Some("The 'ne' operator is not supported in a user search.".into())
            }
            Expr::Cmp {
                attr, op: Op::Co, ..
            } if !USER_CONTAINS_ATTRS.contains(&attr.as_str()) => Some(format!(
                "The 'co' operator is not supported on the attribute {attr}."
            )),
            Expr::Cmp { .. } => None,
        }
    }

    /// Evaluates against a record; `get` returns the attribute's value (None = absent).
    pub fn matches<'a>(&self, get: &dyn Fn(&str) -> Option<&'a str>) -> bool {
        match self {
            Expr::And(a, b) => a.matches(get) && b.matches(get),
            Expr::Or(a, b) => a.matches(get) || b.matches(get),
            Expr::Cmp { attr, op, value } => {
                let Some(actual) = get(attr) else {
                    return *op == Op::Ne;
                };
                let actual = actual.to_lowercase();
                let value = value.to_lowercase();
                match op {
                    Op::Eq => actual == value,
                    Op::Ne => actual != value,
                    Op::Sw => actual.starts_with(&value),
                    Op::Co => actual.contains(&value),
                    Op::Gt => actual > value,
                    Op::Ge => actual >= value,
                    Op::Lt => actual < value,
                    Op::Le => actual <= value,
                    Op::Pr => true,
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
}

fn tokenize(input: &str) -> Result<Vec<Tok>, SearchError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(SearchError("unterminated string".into())),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\')) => s.push(e),
                            _ => return Err(SearchError("bad escape".into())),
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
            other => return Err(SearchError(format!("unexpected character {other:?}"))),
        }
    }
    if out.is_empty() {
        return Err(SearchError("empty expression".into()));
    }
    Ok(out)
}

struct Parser<'k> {
    tokens: Vec<Tok>,
    pos: usize,
    known: &'k dyn Fn(&str) -> bool,
}

impl Parser<'_> {
    fn keyword(&mut self, kw: &str) -> bool {
        if let Some(Tok::Word(w)) = self.tokens.get(self.pos) {
            if w.eq_ignore_ascii_case(kw) {
                self.pos += 1;
                return true;
            }
        }
        false
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, SearchError> {
        if depth > MAX_DEPTH {
            return Err(SearchError("nested too deeply".into()));
        }
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            let right = self.and(depth)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, SearchError> {
        let mut left = self.primary(depth)?;
        while self.keyword("and") {
            let right = self.primary(depth)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, SearchError> {
        match self.tokens.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let e = self.expr(depth + 1)?;
                if self.tokens.get(self.pos) != Some(&Tok::Close) {
                    return Err(SearchError("missing )".into()));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Word(attr)) => {
                if !(self.known)(&attr) {
                    return Err(SearchError(format!("unknown attribute {attr}")));
                }
                self.pos += 1;
                let op = match self.tokens.get(self.pos) {
                    Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "sw" => Op::Sw,
                        "co" => Op::Co,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        "pr" => Op::Pr,
                        _ => return Err(SearchError(format!("unknown operator {w}"))),
                    },
                    _ => return Err(SearchError("missing operator".into())),
                };
                self.pos += 1;
                if op == Op::Pr {
                    return Ok(Expr::Cmp {
                        attr,
                        op,
                        value: String::new(),
                    });
                }
                match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Str(value)) => {
                        self.pos += 1;
                        Ok(Expr::Cmp { attr, op, value })
                    }
                    _ => Err(SearchError("expected a quoted value".into())),
                }
            }
            _ => Err(SearchError("expected a clause".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_attr(_: &str) -> bool {
        true
    }

    fn rec<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> + 'a {
        move |k| pairs.iter().find(|(a, _)| *a == k).map(|(_, v)| *v)
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let e = Expr::parse(r#"a eq "1" or b eq "2" and c eq "3""#, &any_attr).unwrap();
        // a=1 alone matches because it is `a or (b and c)`.
        assert!(e.matches(&rec(&[("a", "1"), ("b", "x"), ("c", "x")])));
        assert!(!e.matches(&rec(&[("a", "0"), ("b", "2"), ("c", "x")])));
        assert!(e.matches(&rec(&[("a", "0"), ("b", "2"), ("c", "3")])));
    }

    #[test]
    fn escapes_and_case() {
        let e = Expr::parse(r#"profile.name EQ "Say \"Hi\" \\ o""#, &any_attr).unwrap();
        assert_eq!(
            e,
            Expr::Cmp {
                attr: "profile.name".into(),
                op: Op::Eq,
                value: r#"Say "Hi" \ o"#.into()
            }
        );
        assert!(e.matches(&rec(&[("profile.name", r#"say "hi" \ O"#)])));
    }

    #[test]
    fn malformed_is_an_error() {
        for bad in [
            "",
            "profile.login",
            r#"profile.login eq"#,
            r#"profile.login eq "x"#,
            r#"profile.login xx "x""#,
            r#"profile.login eq "x" and"#,
            r#"(profile.login eq "x""#,
            r#"profile.login eq "x" )"#,
            r#"profile.login eq x"#,
            r#"profile.login eq "\n""#,
        ] {
            assert!(Expr::parse(bad, &any_attr).is_err(), "accepted {bad:?}");
        }
        assert!(Expr::parse(r#"nope eq "x""#, &|a| a == "id").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,64}") {
            let _ = Expr::parse(&s, &any_attr);
        }

        #[test]
        fn quoted_values_round_trip(v in ".{0,32}") {
            let quoted = v.replace('\\', "\\\\").replace('"', "\\\"");
            let e = Expr::parse(&format!("id eq \"{quoted}\""), &any_attr).unwrap();
            let owned = v.clone();
            prop_assert!(e.matches(&|_| Some(owned.as_str())));
        }
    }
}
