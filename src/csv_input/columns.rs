//! Which column names the users: header names matched case-insensitively, ignoring spaces and
//! punctuation (`User Id`, `user.Id` and `USERID` are the same), or a headerless single column.

use crate::domain::ids::OktaUserId;

/// Header names (normalised by [`norm`]) of a column holding Okta user ids.
const ID_HEADERS: &[&str] = &["userid", "id", "oktaid", "oktauserid"];
/// …holding logins (Okta's `profile.login`).
const LOGIN_HEADERS: &[&str] = &[
    "username",
    "login",
    "userlogin",
    "profilelogin",
    "oktalogin",
    "logins",
    "usernames",
];
/// …holding email addresses.
const EMAIL_HEADERS: &[&str] = &[
    "primaryemail",
    "email",
    "useremail",
    "profileemail",
    "emailaddress",
    "emails",
    "mail",
];
/// Header words of a single column that names no user: a lone `Name` column is a header the bot
/// cannot use, not a user called "Name".
const OTHER_HEADERS: &[&str] = &[
    "name",
    "names",
    "fullname",
    "displayname",
    "firstname",
    "lastname",
    "user",
    "users",
    "status",
    "department",
    "title",
    "group",
    "groups",
    "manager",
    "value",
    "values",
];

/// `User Id` → `userid`: lower case, letters and digits only.
pub fn norm(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The columns of a file with a header row, by index; at least one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    pub id: Option<usize>,
    pub login: Option<usize>,
    pub email: Option<usize>,
    /// The header as written in the file, for messages.
    pub headers: Vec<String>,
}

impl Columns {
    /// Finds the id, login and email columns of `headers` (each the first that matches).
    pub fn find(headers: &[String]) -> Option<Columns> {
        let normed: Vec<String> = headers.iter().map(|h| norm(h)).collect();
        let find = |names: &[&str]| normed.iter().position(|h| names.contains(&h.as_str()));
        let cols = Columns {
            id: find(ID_HEADERS),
            login: find(LOGIN_HEADERS),
            email: find(EMAIL_HEADERS),
            headers: headers.to_vec(),
        };
        (cols.id.is_some() || cols.login.is_some() || cols.email.is_some()).then_some(cols)
    }

    /// The export this header comes from, as the approver would recognise it.
    pub fn format(&self) -> &'static str {
        let has = |name: &str| self.headers.iter().any(|h| norm(h) == name);
        if has("userid") && has("username") && has("primaryemail") {
            "Rockstar “Export Users”"
        } else if has("id") && has("login") {
            "Rockstar “Export Group Members”"
        } else {
            "CSV with a header row"
        }
    }

    pub fn header(&self, i: Option<usize>) -> Option<&str> {
        i.and_then(|i| self.headers.get(i)).map(String::as_str)
    }
}

/// Whether `value`, the only cell of a headerless file's first row, names a user rather than
/// being a header: an email, an Okta id, or a login-shaped word that is not a known header word.
pub fn is_headerless_value(value: &str) -> bool {
    if value.contains('@') || OktaUserId::looks_like(value) {
        return !value.chars().any(char::is_whitespace);
    }
    let login_like = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "._%+-'".contains(c));
    let n = norm(value);
    login_like
        && !OTHER_HEADERS.contains(&n.as_str())
        && !ID_HEADERS.contains(&n.as_str())
        && !LOGIN_HEADERS.contains(&n.as_str())
        && !EMAIL_HEADERS.contains(&n.as_str())
}

/// A value meant as an Okta user id that does not have the shape of one (`00u` and letters or
/// digits, but not 20 of them): refused before any call rather than looked up as a login.
pub fn is_broken_id(value: &str) -> bool {
    value
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("00u"))
        && value.chars().all(|c| c.is_ascii_alphanumeric())
        && !OktaUserId::looks_like(value)
}
