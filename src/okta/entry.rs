//! One user entry of Okta's JSON, read field by field, so that a malformed entry (a field missing
//! or of the wrong type) is reported on its own — with the field it lacked — instead of failing
//! the whole page it came in.
//!
//! Two strictnesses: a list entry (group members, searches) may be thin — no `status` or
//! `credentials`, which the resolver then re-reads by id — while a single user read by id must
//! carry its `status`, because a run decides from it whether a lost reset went through.

use serde_json::{Map, Value};

use super::model::{Credentials, OktaUser, Provider, UserProfile};

/// An entry that could not be used, with what could still be read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The entry's `id`, when it had a usable one (it can then be read again by id).
    pub id: Option<String>,
    /// `profile.login`, when it was text (for the report only).
    pub login: Option<String>,
    /// What was wrong, e.g. "lacked `status`" or "had `status` as a number, not text".
    pub why: String,
}

impl Malformed {
    /// The sentence shown in the approval, the results and the summary.
    pub fn reason(&self) -> String {
        format!("Okta's answer for this user {}", self.why)
    }
}

/// How much an entry must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// A page of a list: `status` and `credentials` may be missing (the user is re-read).
    ListEntry,
    /// `GET /api/v1/users/{id}`: `status` is required.
    Detail,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn wrong(field: &str, v: &Value, wanted: &str) -> String {
    format!("had `{field}` as {}, not {wanted}", kind(v))
}

/// Text, absent (`None`), or a wrong type (`Err`, the reason).
fn opt_text(o: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(wrong(field, v, "text")),
    }
}

/// An object, absent (`None`), or a wrong type.
fn opt_object<'a>(
    o: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(v) => Err(wrong(field, v, "an object")),
    }
}

/// Reads one user entry.
pub fn parse_user(v: &Value, strictness: Strictness) -> Result<OktaUser, Malformed> {
    let Value::Object(o) = v else {
        return Err(Malformed {
            id: None,
            login: None,
            why: format!("was {} instead of an object", kind(v)),
        });
    };
    let login = o
        .get("profile")
        .and_then(|p| p.get("login"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = match o.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    };
    let fail = |why: String| Malformed {
        id: id.clone(),
        login: login.clone(),
        why,
    };
    if id.is_none() {
        return Err(fail(match o.get("id") {
            None | Some(Value::Null) => "lacked `id`".to_string(),
            Some(Value::String(_)) => "had an empty `id`".to_string(),
            Some(v) => wrong("id", v, "text"),
        }));
    }
    let status = match (opt_text(o, "status", "status").map_err(&fail)?, strictness) {
        (Some(s), _) => s,
        (None, Strictness::ListEntry) => String::new(),
        (None, Strictness::Detail) => return Err(fail("lacked `status`".into())),
    };
    let status_changed = opt_text(o, "statusChanged", "statusChanged").map_err(&fail)?;
    let profile = opt_object(o, "profile", "profile")
        .map_err(&fail)?
        .ok_or_else(|| fail("lacked `profile`".into()))?;
    let login = opt_text(profile, "login", "profile.login")
        .map_err(&fail)?
        .filter(|l| !l.trim().is_empty())
        .ok_or_else(|| fail("lacked `profile.login`".into()))?;
    let email = opt_text(profile, "email", "profile.email").map_err(&fail)?;
    let first_name = opt_text(profile, "firstName", "profile.firstName").map_err(&fail)?;
    let last_name = opt_text(profile, "lastName", "profile.lastName").map_err(&fail)?;
    let credentials = match opt_object(o, "credentials", "credentials").map_err(&fail)? {
        None => None,
        Some(c) => {
            let provider = match opt_object(c, "provider", "credentials.provider").map_err(&fail)? {
                None => None,
                Some(p) => {
                    let kind = opt_text(p, "type", "credentials.provider.type")
                        .map_err(&fail)?
                        .ok_or_else(|| fail("lacked `credentials.provider.type`".into()))?;
                    Some(Provider { kind })
                }
            };
            Some(Credentials { provider })
        }
    };
    Ok(OktaUser {
        id: id.expect("checked"),
        status,
        status_changed,
        profile: UserProfile {
            login,
            email,
            first_name,
            last_name,
        },
        credentials,
        links: o.get("_links").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "id": "00u1abcdefghijklmnop",
            "status": "ACTIVE",
            "statusChanged": "2025-11-03T10:15:00.000Z",
            "profile": {"login": "a@example.com", "email": "a@example.com",
                        "firstName": "Ann", "lastName": "Lee"},
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": {"resetPassword": {"href": "x"}},
        })
    }

    fn why(v: Value, s: Strictness) -> Malformed {
        parse_user(&v, s).expect_err("malformed")
    }

    #[test]
    fn a_complete_entry_reads_like_the_serde_model() {
        let u = parse_user(&good(), Strictness::Detail).unwrap();
        let serde: OktaUser = serde_json::from_value(good()).unwrap();
        assert_eq!(u.id, serde.id);
        assert_eq!(u.status, "ACTIVE");
        assert_eq!(u.provider(), Some("OKTA"));
        assert_eq!(u.display_name(), "Ann Lee");
        assert_eq!(u.status_changed_ms(), serde.status_changed_ms());
        assert!(u.links.unwrap().get("resetPassword").is_some());
    }

    #[test]
    fn a_thin_list_entry_is_accepted_but_a_detail_must_carry_its_status() {
        let mut v = good();
        let o = v.as_object_mut().unwrap();
        o.remove("status");
        o.remove("credentials");
        let u = parse_user(&v, Strictness::ListEntry).unwrap();
        assert_eq!(u.status, "");
        assert_eq!(u.provider(), None);
        let m = why(v, Strictness::Detail);
        assert_eq!(m.reason(), "Okta's answer for this user lacked `status`");
        assert_eq!(m.id.as_deref(), Some("00u1abcdefghijklmnop"));
        assert_eq!(m.login.as_deref(), Some("a@example.com"));
    }

    #[test]
    fn each_missing_or_mistyped_field_is_named() {
        type Case = (fn(&mut Value), &'static str);
        let cases: Vec<Case> = vec![
            (
                |v| drop(v.as_object_mut().unwrap().remove("id")),
                "lacked `id`",
            ),
            (|v| v["id"] = json!(42), "had `id` as a number, not text"),
            (|v| v["id"] = json!(" "), "had an empty `id`"),
            (
                |v| v["status"] = json!(3),
                "had `status` as a number, not text",
            ),
            (
                |v| drop(v.as_object_mut().unwrap().remove("profile")),
                "lacked `profile`",
            ),
            (
                |v| v["profile"] = json!("x"),
                "had `profile` as text, not an object",
            ),
            (
                |v| v["profile"]["login"] = json!(null),
                "lacked `profile.login`",
            ),
            (
                |v| v["profile"]["email"] = json!(["a"]),
                "had `profile.email` as a list, not text",
            ),
            (
                |v| v["profile"]["firstName"] = json!(true),
                "had `profile.firstName` as true/false, not text",
            ),
            (
                |v| v["credentials"] = json!("OKTA"),
                "had `credentials` as text, not an object",
            ),
            (
                |v| v["credentials"]["provider"] = json!(1),
                "had `credentials.provider` as a number, not an object",
            ),
            (
                |v| v["credentials"]["provider"] = json!({}),
                "lacked `credentials.provider.type`",
            ),
            (
                |v| v["statusChanged"] = json!(1700000000),
                "had `statusChanged` as a number, not text",
            ),
        ];
        for (break_it, wanted) in cases {
            let mut v = good();
            break_it(&mut v);
            let m = why(v, Strictness::ListEntry);
            assert_eq!(m.why, wanted);
        }
        assert_eq!(
            why(json!("00u1"), Strictness::ListEntry).why,
            "was text instead of an object"
        );
    }

    #[test]
    fn the_id_and_login_survive_for_the_report_when_usable() {
        let mut v = good();
        v["status"] = json!(7);
        let m = why(v, Strictness::ListEntry);
        assert_eq!(m.id.as_deref(), Some("00u1abcdefghijklmnop"));
        assert_eq!(m.login.as_deref(), Some("a@example.com"));
        let mut v = good();
        v["id"] = json!(7);
        let m = why(v, Strictness::ListEntry);
        assert_eq!(m.id, None);
        assert_eq!(m.login.as_deref(), Some("a@example.com"));
    }
}
