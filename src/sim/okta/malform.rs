//! Ways the sim can spoil one user's JSON on purpose (the malformed-page drill): a field missing
//! or of the wrong type, in list entries (group members, searches) or in the single-user GET.

use serde_json::{json, Value};

/// How to spoil a user entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malform {
    /// No `id` at all.
    MissingId,
    /// `id` is a number.
    IdNumber,
    /// No `status` (a thin entry: the bot re-reads it).
    MissingStatus,
    /// `status` is a number.
    StatusNumber,
    /// No `profile`.
    MissingProfile,
    /// `profile` is text.
    ProfileText,
    /// `profile.login` missing.
    MissingLogin,
    /// `credentials` is text.
    CredentialsText,
    /// The entry is a bare string instead of an object.
    NotAnObject,
}

impl Malform {
    pub fn apply(self, v: &mut Value) {
        let Some(o) = v.as_object_mut() else {
            return;
        };
        match self {
            Malform::MissingId => {
                o.remove("id");
            }
            Malform::IdNumber => {
                o.insert("id".into(), json!(4242));
            }
            Malform::MissingStatus => {
                o.remove("status");
            }
            Malform::StatusNumber => {
                o.insert("status".into(), json!(1));
            }
            Malform::MissingProfile => {
                o.remove("profile");
            }
            Malform::ProfileText => {
                o.insert("profile".into(), json!("n/a"));
            }
            Malform::MissingLogin => {
                if let Some(p) = o.get_mut("profile").and_then(Value::as_object_mut) {
                    p.remove("login");
                }
            }
            Malform::CredentialsText => {
                o.insert("credentials".into(), json!("OKTA"));
            }
            Malform::NotAnObject => {
                *v = json!("user");
            }
        }
    }
}
