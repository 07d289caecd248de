//! Okta's JSON shapes (users, groups, errors) and small response helpers.

use std::time::SystemTime;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use super::org::{okta_id, SimUser};

const CREATED: &str = "2024-02-01T09:00:00.000Z";
const STATUS_CHANGED: &str = "2025-11-03T10:15:00.000Z";
const LAST_LOGIN: &str = "2026-05-20T08:30:00.000Z";
const PASSWORD_CHANGED: &str = "2025-12-01T12:00:00.000Z";

const ISO: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const HTTP_DATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

pub fn iso(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(ISO)
        .unwrap_or_else(|_| CREATED.to_string())
}

pub fn http_date(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(HTTP_DATE)
        .unwrap_or_default()
}

pub fn random_id(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `credentials.provider.name` for a provider type.
fn provider_name(kind: &str) -> &'static str {
    match kind {
        "ACTIVE_DIRECTORY" => "example.local",
        "LDAP" => "ldap.example.com",
        "FEDERATION" => "FEDERATION",
        "SOCIAL" => "Google",
        "IMPORT" => "IMPORT",
        _ => "OKTA",
    }
}

/// A user in Okta's shape. `detail` = the single-user GET, whose `_links` also carry the
/// lifecycle operations (notably `resetPassword` when the status allows it).
pub fn user_json(
    base: &str,
    u: &SimUser,
    status_changed: Option<SystemTime>,
    detail: bool,
) -> Value {
    let self_href = format!("{base}/api/v1/users/{}", u.id);
    let staged = matches!(u.status.as_str(), "STAGED");
    let never_logged_in = matches!(u.status.as_str(), "STAGED" | "PROVISIONED");
    let has_password = !matches!(u.provider.as_str(), "FEDERATION" | "SOCIAL");
    let changed = status_changed.map(iso);
    let mut credentials = json!({
        "provider": {"type": u.provider, "name": provider_name(&u.provider)}
    });
    if has_password {
        credentials["password"] = json!({});
    }
    let mut links = json!({"self": {"href": self_href}});
    if detail {
        if u.can_reset() {
            links["resetPassword"] = json!({
                "href": format!("{self_href}/lifecycle/reset_password"), "method": "POST"
            });
        }
        if u.status != "DEPROVISIONED" {
            links["deactivate"] = json!({
                "href": format!("{self_href}/lifecycle/deactivate"), "method": "POST"
            });
        }
        if u.status == "LOCKED_OUT" {
            links["unlock"] = json!({
                "href": format!("{self_href}/lifecycle/unlock"), "method": "POST"
            });
        }
        links["type"] =
            json!({"href": format!("{base}/api/v1/meta/types/user/{}", user_type_id())});
    }
    let mut profile = json!({
        "firstName": u.first_name,
        "lastName": u.last_name,
        "login": u.login,
        "email": u.email,
    });
    if !u.department.is_empty() {
        profile["department"] = json!(u.department);
    }
    json!({
        "id": u.id,
        "status": u.status,
        "created": CREATED,
        "activated": if staged { Value::Null } else { json!(CREATED) },
        "statusChanged": changed.clone().unwrap_or_else(|| STATUS_CHANGED.to_string()),
        "lastLogin": if never_logged_in { Value::Null } else { json!(LAST_LOGIN) },
        "lastUpdated": changed.unwrap_or_else(|| STATUS_CHANGED.to_string()),
        "passwordChanged": if has_password && !never_logged_in { json!(PASSWORD_CHANGED) } else { Value::Null },
        "type": {"id": user_type_id()},
        "profile": profile,
        "credentials": credentials,
        "_links": links,
    })
}

fn user_type_id() -> String {
    okta_id("oty", "default-user-type")
}

pub fn group_json(base: &str, id: &str, name: &str, kind: &str) -> Value {
    let object_class = if kind == "APP_GROUP" {
        "okta:windows_security_principal"
    } else {
        "okta:user_group"
    };
    json!({
        "id": id,
        "created": CREATED,
        "lastUpdated": STATUS_CHANGED,
        "lastMembershipUpdated": STATUS_CHANGED,
        "objectClass": [object_class],
        "type": kind,
        "profile": {"name": name, "description": ""},
        "_links": {
            "logo": [],
            "users": {"href": format!("{base}/api/v1/groups/{id}/users")},
            "apps": {"href": format!("{base}/api/v1/groups/{id}/apps")},
        },
    })
}

/// A JSON response.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The error code Okta uses for a status when nothing more specific applies.
pub fn default_code(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        401 => ("E0000011", "Invalid token provided"),
        403 => (
            "E0000006",
            "You do not have permission to perform the requested action",
        ),
        404 => ("E0000007", "Not found: Resource not found"),
        429 => (
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        ),
        s if s >= 500 => ("E0000009", "Internal Server Error"),
        _ => ("E0000001", "Api validation failed"),
    }
}

/// An Okta error body.
pub fn error(status: StatusCode, code: &str, summary: &str) -> Response {
    error_with_causes(status, code, summary, &[])
}

/// An Okta error body whose `errorCauses` each carry an `errorSummary`.
pub fn error_with_causes(
    status: StatusCode,
    code: &str,
    summary: &str,
    causes: &[String],
) -> Response {
    let causes: Vec<Value> = causes
        .iter()
        .map(|c| json!({ "errorSummary": c }))
        .collect();
    json_response(
        status,
        &json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": format!("oae{}", random_id(19)),
            "errorCauses": causes,
        }),
    )
}

pub fn not_found(what: &str, kind: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "E0000007",
        &format!("Not found: Resource not found: {what} ({kind})"),
    )
}

pub fn bad_search() -> Response {
    bad_search_because(&[])
}

/// Okta's 400 `E0000031` for a search it cannot run, with why in `errorCauses`.
pub fn bad_search_because(causes: &[String]) -> Response {
    error_with_causes(
        StatusCode::BAD_REQUEST,
        "E0000031",
        "Invalid search criteria.",
        causes,
    )
}
