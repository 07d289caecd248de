//! The request form (`/okta-reset` with no arguments, or `/okta-reset form`): the modal's Block
//! Kit, and its `view_submission` read from raw JSON — slack-morphism 2.31.1 drops the
//! `file_input` element's `files` list, which real payloads carry at
//! `view.state.values[block][action].files`.
//!
//! Field checks that need nothing but the form (a target for the chosen kind, the reason's
//! length) live here and name the block they belong to, so Slack shows each error next to its
//! field (`response_action: errors`).

use serde_json::{json, Value};

use crate::domain::command::{ResetSpec, TargetSpec, UserRef, MAX_REASON_CHARS};
use crate::domain::ids::{OktaGroupId, OktaUserId, SlackChannelId, SlackTeamId, SlackUserId};

pub const CALLBACK_ID: &str = "okta_reset_request";
/// Block ids; each input's action id is the same word.
pub const KIND: &str = "kind";
pub const GROUP: &str = "group";
pub const USERS: &str = "users";
pub const FILE: &str = "file";
pub const REASON: &str = "reason";
pub const OPTIONS: &str = "options";

pub const KIND_GROUP: &str = "group";
pub const KIND_USERS: &str = "users";
pub const KIND_FILE: &str = "file";
pub const DRY_RUN: &str = "dry_run";
pub const REVOKE: &str = "revoke_sessions";
pub const CONTAIN: &str = "contain";

fn plain(text: &str) -> Value {
    json!({"type": "plain_text", "text": text})
}

fn option(value: &str, label: &str) -> Value {
    json!({"text": plain(label), "value": value})
}

/// The form for a request made from `channel` (kept in `private_metadata`).
pub fn request_form(channel: &SlackChannelId, require_reason: bool) -> Value {
    json!({
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": channel.as_str(),
        "title": plain("Okta password reset"),
        "submit": plain("Ask for approval"),
        "close": plain("Cancel"),
        "blocks": [
            {"type": "input", "block_id": KIND, "label": plain("Whom to reset"),
             "element": {"type": "radio_buttons", "action_id": KIND,
                         "initial_option": option(KIND_FILE, "Users in a CSV file"),
                         "options": [option(KIND_FILE, "Users in a CSV file"),
                                     option(KIND_GROUP, "Everyone in an Okta group"),
                                     option(KIND_USERS, "Users I list")]}},
            {"type": "input", "block_id": FILE, "optional": true,
             "label": plain("CSV file"),
             "hint": plain("A Rockstar export, an Okta report, or one login, email or Okta user id per line."),
             "element": {"type": "file_input", "action_id": FILE,
                         "filetypes": ["csv", "txt"], "max_files": 1}},
            {"type": "input", "block_id": GROUP, "optional": true,
             "label": plain("Okta group"),
             "hint": plain("The group's exact name, or its id (00g…)."),
             "element": {"type": "plain_text_input", "action_id": GROUP,
                         "placeholder": plain("contractors")}},
            {"type": "input", "block_id": USERS, "optional": true,
             "label": plain("Users"),
             "hint": plain("Logins, emails or Okta user ids (00u…), separated by commas or new lines."),
             "element": {"type": "plain_text_input", "action_id": USERS, "multiline": true}},
            {"type": "input", "block_id": REASON, "optional": !require_reason,
             "label": plain("Reason"),
             "hint": plain("Shown to the approver and kept in the audit log, e.g. an incident number."),
             "element": {"type": "plain_text_input", "action_id": REASON,
                         "max_length": MAX_REASON_CHARS}},
            {"type": "input", "block_id": OPTIONS, "optional": true,
             "label": plain("Options"),
             "element": {"type": "checkboxes", "action_id": OPTIONS,
                         "options": [option(DRY_RUN, "Dry run: show who would be reset, change nothing"),
                                     option(REVOKE, "Also end the users' Okta sessions"),
                                     option(CONTAIN, "Contain: also end every session and OAuth token, and forget remembered devices")]}},
        ]
    })
}

/// A submitted form, as Slack sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub team: Option<SlackTeamId>,
    pub user: SlackUserId,
    pub channel: SlackChannelId,
    pub kind: Option<String>,
    pub group: Option<String>,
    pub users: Option<String>,
    /// Ids of the uploaded files.
    pub files: Vec<String>,
    pub reason: Option<String>,
    pub dry_run: bool,
    pub revoke_sessions: bool,
    pub contain: bool,
}

/// Reads a `view_submission` of our form; `None` for anything else.
pub fn parse_submission(p: &Value) -> Option<Submission> {
    if p.get("type")?.as_str()? != "view_submission"
        || p.pointer("/view/callback_id")?.as_str()? != CALLBACK_ID
    {
        return None;
    }
    let values = p.pointer("/view/state/values")?;
    let field = |block: &str| values.get(block).and_then(|b| b.get(block));
    let text = |block: &str| {
        field(block)
            .and_then(|f| f.get("value"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let checked: Vec<&str> = field(OPTIONS)
        .and_then(|f| f.get("selected_options"))
        .and_then(Value::as_array)
        .map(|o| o.iter().filter_map(|o| o.get("value")?.as_str()).collect())
        .unwrap_or_default();
    let team = match p.get("team") {
        Some(Value::Object(t)) => Some(SlackTeamId::parse(t.get("id")?.as_str()?).ok()?),
        _ => None,
    };
    Some(Submission {
        team,
        user: SlackUserId::parse(p.pointer("/user/id")?.as_str()?).ok()?,
        channel: SlackChannelId::parse(p.pointer("/view/private_metadata")?.as_str()?).ok()?,
        kind: field(KIND)
            .and_then(|f| f.pointer("/selected_option/value"))
            .and_then(Value::as_str)
            .map(str::to_string),
        group: text(GROUP),
        users: text(USERS),
        files: field(FILE)
            .and_then(|f| f.get("files"))
            .and_then(Value::as_array)
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| f.get("id")?.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        reason: text(REASON),
        dry_run: checked.contains(&DRY_RUN),
        revoke_sessions: checked.contains(&REVOKE),
        contain: checked.contains(&CONTAIN),
    })
}

/// Errors by block id, in the order the form shows them.
pub type FieldErrors = Vec<(&'static str, String)>;

/// The typed request a submission asks for: targets for group/users, the file id for a CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRequest {
    pub spec: ResetSpec,
    pub file: Option<String>,
}

/// Checks the fields the chosen kind needs; each error names its block.
pub fn to_request(s: &Submission) -> Result<FormRequest, FieldErrors> {
    let mut errors: FieldErrors = Vec::new();
    let mut spec = ResetSpec {
        reason: s.reason.clone(),
        dry_run: s.dry_run,
        // `--contain` implies `--revoke-sessions`, as on the command line.
        revoke_sessions: s.revoke_sessions || s.contain,
        contain: s.contain,
        ..ResetSpec::default()
    };
    if let Some(r) = &s.reason {
        let chars = r.chars().count();
        if chars > MAX_REASON_CHARS {
            errors.push((
                REASON,
                format!("The reason is {chars} characters long; keep it to {MAX_REASON_CHARS} or fewer."),
            ));
        }
    }
    let mut file = None;
    match s.kind.as_deref().unwrap_or(KIND_FILE) {
        KIND_GROUP => match &s.group {
            None => errors.push((
                GROUP,
                "Name the Okta group, or choose another kind above.".into(),
            )),
            Some(g) => spec.targets.push(match OktaGroupId::parse(g) {
                Ok(id) => TargetSpec::GroupId(id),
                Err(_) => TargetSpec::GroupName(g.clone()),
            }),
        },
        KIND_USERS => {
            let items: Vec<&str> = s
                .users
                .as_deref()
                .unwrap_or("")
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|i| !i.is_empty())
                .collect();
            if items.is_empty() {
                errors.push((
                    USERS,
                    "List at least one login, email or Okta user id, or choose another kind above."
                        .into(),
                ));
            }
            spec.targets.extend(items.into_iter().map(|i| {
                TargetSpec::User(match OktaUserId::parse(i) {
                    Ok(id) => UserRef::Id(id),
                    Err(_) => UserRef::Login(i.to_string()),
                })
            }));
        }
        _ => match s.files.as_slice() {
            [] => errors.push((
                FILE,
                "Upload the CSV file, or choose another kind above.".into(),
            )),
            [one] => file = Some(one.clone()),
            many => errors.push((
                FILE,
                format!(
                    "Upload one file per request ({} were attached).",
                    many.len()
                ),
            )),
        },
    }
    if errors.is_empty() {
        Ok(FormRequest { spec, file })
    } else {
        Err(errors)
    }
}

/// The HTTP answer that shows `errors` next to their fields. Slack shows these as plain text,
/// where `<!channel>` notifies nobody and backticks show as backticks, so the mrkdwn of the
/// shared refusals is turned into plain text (`as_plain_text`).
pub fn errors_response(errors: &[(&str, String)]) -> Value {
    let map: serde_json::Map<String, Value> = errors
        .iter()
        .map(|(b, m)| (b.to_string(), Value::String(as_plain_text(m))))
        .collect();
    json!({"response_action": "errors", "errors": map})
}

/// A refusal written as mrkdwn, as plain text: each code span becomes “…” (`escape::code`
/// turns backticks inside a span into `'`, so they pair up), and entities are undone — `&amp;`
/// last, so a typed `&lt;` (sent as `&amp;lt;`) stays `&lt;`.
fn as_plain_text(s: &str) -> String {
    let mut open = false;
    let quoted: String = s
        .chars()
        .map(|c| match c {
            '`' => {
                open = !open;
                if open {
                    '“'
                } else {
                    '”'
                }
            }
            c => c,
        })
        .collect();
    quoted
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests;
