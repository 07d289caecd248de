//! The `/okta-reset` command grammar.
//!
//! `parse` turns the raw `text` of a Slack slash command into a [`Command`]. It undoes what Slack
//! and its clients do to typed text first ([`normalize_slack_text`]), then splits it into tokens
//! (`key:"quoted value"` keeps spaces) and reads them. Deciding whether a request is allowed —
//! including whether a reason is required — is policy's job, not the parser's.

use std::fmt;

use super::ids::{clip_for_display, IdError, OktaGroupId, OktaUserId, RequestId};
use super::search_expr::{SearchError, SearchExpr};

mod lex;

pub use lex::normalize_slack_text;
use lex::{tokenize, Token};

/// Longer command text is refused before any other work (Slack's own limit is about this size).
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest accepted `reason:`, in characters after trimming.
pub const MAX_REASON_CHARS: usize = 500;

/// Shown for `help` and alongside parse errors; Slack mrkdwn.
pub const USAGE: &str = "\
*Usage:* `/okta-reset TARGETS [reason:WHY] [--dry-run] [--revoke-sessions] [--contain]`
• `/okta-reset` alone (or `/okta-reset form`) — a form, with a CSV file upload
• `group:NAME`, `group:\"Name With Spaces\"` or `group:00g…` — everyone in an Okta group
• `user:alice@example.com,bob@example.com,00u…` — named users (logins, emails or Okta ids)
• `search:'profile.department eq \"Sales\"'` — users matching an Okta search (eq, sw, gt, lt; co on profile.firstName/lastName/email/login; and/or)
• `reason:\"why this is needed\"` — recorded with the request
• `--dry-run` — list who would be reset, change nothing
• `--revoke-sessions` — also sign them out everywhere
• `--contain` — reset, then end every session and OAuth token and forget remembered devices (a compromised account)
• `/okta-reset status R-XXXXXXXX` — show a request
• `/okta-reset cancel R-XXXXXXXX` — cancel a pending request
• `/okta-reset help` — this message
Targets can be combined and repeated, e.g. `/okta-reset group:\"Sales EMEA\" user:bob@example.com reason:\"phishing\"`. \
A second person must approve before anything is reset.";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    /// `/okta-reset` with no arguments, or `form`: open the request form.
    Form,
    Status(RequestId),
    Cancel(RequestId),
    Reset(ResetSpec),
}

/// A reset request as typed; targets are unresolved and kept in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResetSpec {
    pub targets: Vec<TargetSpec>,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub revoke_sessions: bool,
    /// `--contain`: after each reset, end every session and OAuth token and forget remembered
    /// devices. Implies `revoke_sessions` (set with it by the parser).
    pub contain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetSpec {
    GroupName(String),
    GroupId(OktaGroupId),
    User(UserRef),
    /// Users matching an Okta search expression (validated, canonical).
    Search(SearchExpr),
}

/// A user as typed. `Login` may be a login or an email address; the resolver decides.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserRef {
    Id(OktaUserId),
    Login(String),
}

impl UserRef {
    pub fn as_str(&self) -> &str {
        match self {
            UserRef::Id(id) => id.as_str(),
            UserRef::Login(login) => login,
        }
    }
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the text is not a command. Each message is one sentence a Slack user can act on; echoed
/// input is clipped to 64 characters and never contains backticks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("the command is {chars} characters long; the limit is {max}, so split it into several requests", max = MAX_TEXT_CHARS)]
    TooLong { chars: usize },
    #[error("`{token}` opens a quote that is never closed; add the closing \"")]
    UnterminatedQuote { token: String },
    #[error("`{token}` opens a ' quote that is never closed; add the closing '")]
    UnterminatedSearch { token: String },
    #[error("`{token}` is not a search I can send to Okta: {source}")]
    BadSearch { token: String, source: SearchError },
    #[error("I don't understand `{token}`; {}", hint(.suggestion, "use group:, user:, reason:, --dry-run, --revoke-sessions or --contain (see help)"))]
    UnknownToken {
        token: String,
        suggestion: Option<String>,
    },
    #[error("`{token}` has an unknown key `{key}:`; {}", hint(.suggestion, "the keys are group:, user:, search: and reason:"))]
    UnknownKey {
        token: String,
        key: String,
        suggestion: Option<String>,
    },
    #[error("`{token}` has no value; write it as `{key}:VALUE`")]
    EmptyValue { token: String, key: &'static str },
    #[error("`{token}` has an empty item in its list; separate users with commas and no spaces, or quote the list: user:\"a@x.com, b@x.com\"")]
    EmptyListItem { token: String },
    #[error("`{command}` needs a request id, e.g. `{command} R-7K3M9QXD`")]
    MissingRequestId { command: &'static str },
    #[error("`{command}` needs a request id, but {source}")]
    BadRequestId {
        command: &'static str,
        source: IdError,
    },
    #[error("`{command}` takes one request id, but `{token}` follows it")]
    TrailingToken {
        command: &'static str,
        token: String,
    },
    #[error("`{token}` is a second reason; give reason: only once")]
    ReasonRepeated { token: String },
    #[error("the reason in `{token}` is {chars} characters long; keep it to {max} or fewer", max = MAX_REASON_CHARS)]
    ReasonTooLong { token: String, chars: usize },
    #[error("say whom to reset: group:NAME or user:LOGIN")]
    NoTarget,
}

fn hint(suggestion: &Option<String>, otherwise: &str) -> String {
    match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_owned(),
    }
}

/// Parses the `text` of a `/okta-reset` slash command, exactly as Slack sent it.
pub fn parse(text: &str) -> Result<Command, CommandError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(CommandError::TooLong { chars });
    }
    let tokens = tokenize(&normalize_slack_text(text))?;
    let Some(first) = tokens.first() else {
        return Ok(Command::Form);
    };
    match first.text.to_lowercase().as_str() {
        "form" if tokens.len() == 1 => Ok(Command::Form),
        // Anything after `help` is ignored: whoever typed it is about to read the usage anyway.
        "help" | "--help" => Ok(Command::Help),
        "status" => request_id("status", &tokens[1..]).map(Command::Status),
        "cancel" => request_id("cancel", &tokens[1..]).map(Command::Cancel),
        _ => reset_spec(&tokens).map(Command::Reset),
    }
}

fn request_id(command: &'static str, rest: &[Token]) -> Result<RequestId, CommandError> {
    let Some(token) = rest.first() else {
        return Err(CommandError::MissingRequestId { command });
    };
    let id = RequestId::parse(&token.text)
        .map_err(|source| CommandError::BadRequestId { command, source })?;
    if let Some(extra) = rest.get(1) {
        return Err(CommandError::TrailingToken {
            command,
            token: extra.shown(),
        });
    }
    Ok(id)
}

#[derive(Clone, Copy)]
enum Flag {
    DryRun,
    RevokeSessions,
    Contain,
}

const FLAGS: [(&str, Flag); 3] = [
    ("dry-run", Flag::DryRun),
    ("revoke-sessions", Flag::RevokeSessions),
    ("contain", Flag::Contain),
];
const KEYS: [&str; 4] = ["group", "user", "search", "reason"];

/// `--dry-run` and friends, case-insensitively. macOS "smart dashes" turns a typed `--` into an
/// em or en dash, so a single `—`/`–` stands in for `--`.
fn flag(text: &str) -> Option<Flag> {
    let name = text
        .strip_prefix("--")
        .or_else(|| text.strip_prefix('—'))
        .or_else(|| text.strip_prefix('–'))?;
    FLAGS
        .iter()
        .find(|(known, _)| name.eq_ignore_ascii_case(known))
        .map(|&(_, flag)| flag)
}

/// Reads the options of a request whose targets come from elsewhere (the text next to a shared
/// file): `reason:`, flags and, optionally, more `group:`/`user:` targets. No target is fine.
pub fn parse_options(text: &str) -> Result<ResetSpec, CommandError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(CommandError::TooLong { chars });
    }
    read_tokens(&tokenize(&normalize_slack_text(text))?)
}

fn reset_spec(tokens: &[Token]) -> Result<ResetSpec, CommandError> {
    let spec = read_tokens(tokens)?;
    if spec.targets.is_empty() {
        return Err(CommandError::NoTarget);
    }
    Ok(spec)
}

fn read_tokens(tokens: &[Token]) -> Result<ResetSpec, CommandError> {
    let mut spec = ResetSpec::default();
    for token in tokens {
        if let Some(flag) = flag(&token.text) {
            match flag {
                Flag::DryRun => spec.dry_run = true,
                Flag::RevokeSessions => spec.revoke_sessions = true,
                // Containing a user also signs them out on the reset call itself.
                Flag::Contain => {
                    spec.contain = true;
                    spec.revoke_sessions = true;
                }
            }
            continue;
        }
        let Some((key, value)) = token.text.split_once(':') else {
            return Err(CommandError::UnknownToken {
                token: token.shown(),
                suggestion: suggest_for_token(&token.text),
            });
        };
        let empty = |key| CommandError::EmptyValue {
            token: token.shown(),
            key,
        };
        match key.to_lowercase().as_str() {
            "group" => {
                let name = value.trim();
                if name.is_empty() {
                    return Err(empty("group"));
                }
                spec.targets.push(match OktaGroupId::parse(name) {
                    Ok(id) => TargetSpec::GroupId(id),
                    Err(_) => TargetSpec::GroupName(name.to_owned()),
                });
            }
            "user" => {
                if value.trim().is_empty() {
                    return Err(empty("user"));
                }
                for item in value.split(',').map(str::trim) {
                    if item.is_empty() {
                        return Err(CommandError::EmptyListItem {
                            token: token.shown(),
                        });
                    }
                    spec.targets
                        .push(TargetSpec::User(match OktaUserId::parse(item) {
                            Ok(id) => UserRef::Id(id),
                            Err(_) => UserRef::Login(item.to_owned()),
                        }));
                }
            }
            "search" => {
                if value.trim().is_empty() {
                    return Err(empty("search"));
                }
                let expr = SearchExpr::parse(value).map_err(|source| CommandError::BadSearch {
                    token: token.shown(),
                    source,
                })?;
                spec.targets.push(TargetSpec::Search(expr));
            }
            "reason" => {
                if spec.reason.is_some() {
                    return Err(CommandError::ReasonRepeated {
                        token: token.shown(),
                    });
                }
                let reason = value.trim();
                let chars = reason.chars().count();
                if chars == 0 {
                    return Err(empty("reason"));
                }
                if chars > MAX_REASON_CHARS {
                    return Err(CommandError::ReasonTooLong {
                        token: token.shown(),
                        chars,
                    });
                }
                spec.reason = Some(reason.to_owned());
            }
            _ => {
                return Err(CommandError::UnknownKey {
                    token: token.shown(),
                    key: clip_for_display(key),
                    suggestion: suggest_for_key(key),
                })
            }
        }
    }
    Ok(spec)
}

/// The known key one edit (insert, delete, substitute or swap) from `key`, as `key:`.
fn suggest_for_key(key: &str) -> Option<String> {
    let key = key.to_lowercase();
    if matches!(key.as_str(), "email" | "mail" | "login" | "username") {
        return Some("user:".to_owned());
    }
    KEYS.iter()
        .find(|known| edit_distance(&key, known) <= 1)
        .map(|known| format!("{known}:"))
}

fn suggest_for_token(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let bare = lower.trim_start_matches(['-', '—', '–']);
    if let Some((name, _)) = FLAGS.iter().find(|(f, _)| edit_distance(bare, f) <= 1) {
        return Some(format!("--{name}"));
    }
    if let Some(key) = KEYS.iter().find(|k| edit_distance(&lower, k) <= 1) {
        let placeholder = match *key {
            "group" => "NAME",
            "user" => "LOGIN",
            "search" => "'EXPRESSION'",
            _ => "WHY",
        };
        return Some(format!("{key}:{placeholder}"));
    }
    if text.contains('@') || OktaUserId::looks_like(text) {
        return Some(clip_for_display(&format!("user:{text}")));
    }
    if OktaGroupId::looks_like(text) {
        return Some(format!("group:{text}"));
    }
    None
}

/// Optimal-string-alignment distance: Levenshtein plus adjacent swaps, so `gruop` is 1 from `group`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Only ever asked "is it ≤ 1?" about short keys; bail out early on long input.
    if a.len().abs_diff(b.len()) > 1 {
        return usize::MAX;
    }
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `value` as one token: bare when it can be, else in double quotes with `"` and `\` escaped.
fn quoted_if_needed(value: &str) -> String {
    if !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c == '"') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::GroupName(name) => write!(f, "group:{}", quoted_if_needed(name)),
            TargetSpec::GroupId(id) => write!(f, "group:{id}"),
            TargetSpec::User(user) => write!(f, "user:{}", quoted_if_needed(user.as_str())),
            TargetSpec::Search(expr) => {
                write!(f, "search:'{}'", expr.as_str().replace('\'', "\\'"))
            }
        }
    }
}

/// The canonical command text, as a user would type it (before Slack escapes it): targets in
/// order with runs of users joined by commas, then the reason, then flags. `parse` reads it back
/// to an equal spec, except for values the grammar cannot express (a login containing a comma, a
/// name with leading/trailing whitespace or curly quotes, a name or login shaped like an Okta id).
impl fmt::Display for ResetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut users: Vec<&str> = Vec::new();
        let flush = |users: &mut Vec<&str>, parts: &mut Vec<String>| {
            if !users.is_empty() {
                parts.push(format!("user:{}", quoted_if_needed(&users.join(","))));
                users.clear();
            }
        };
        for target in &self.targets {
            match target {
                TargetSpec::User(user) => users.push(user.as_str()),
                group => {
                    flush(&mut users, &mut parts);
                    parts.push(group.to_string());
                }
            }
        }
        flush(&mut users, &mut parts);
        if let Some(reason) = &self.reason {
            parts.push(format!("reason:{}", quoted_if_needed(reason)));
        }
        if self.dry_run {
            parts.push("--dry-run".to_owned());
        }
        if self.contain {
            // `--contain` implies `--revoke-sessions`: the canonical text names only the first.
            parts.push("--contain".to_owned());
        } else if self.revoke_sessions {
            parts.push("--revoke-sessions".to_owned());
        }
        f.write_str(&parts.join(" "))
    }
}

/// The canonical text of any command (`help`, `status R-…`, `cancel R-…` or a reset).
impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Help => f.write_str("help"),
            Command::Form => f.write_str("form"),
            Command::Status(id) => write!(f, "status {id}"),
            Command::Cancel(id) => write!(f, "cancel {id}"),
            Command::Reset(spec) => spec.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests;
