//! The simulated org's Okta Verify push factors: `GET /api/v1/users/{id}/factors`, `POST
//! …/factors/{factorId}/verify` (a number matching challenge when asked for one) and the
//! transaction poll, whose result the test sets (WAITING until then). Authorized like the rest
//! of the management API: the API token (`SSWS`), or an OAuth access token with the operation's
//! scope (`okta.users.read` to list factors and poll, `okta.users.manage` to push, as the spec's
//! `listFactors`, `getFactorTransactionStatus` and `verifyFactor` say).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::oidc::SimOidc;

/// One push sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCall {
    pub user_id: String,
    pub factor_id: String,
    pub number_matching: bool,
    pub correct_answer: u32,
    pub transaction: String,
}

#[derive(Default)]
pub(super) struct FactorState {
    /// user id → factors (JSON as Okta lists them).
    enrolled: HashMap<String, Vec<Value>>,
    pushes: Vec<PushCall>,
    /// What every transaction's poll answers now (`WAITING` until a test sets it).
    result: Option<String>,
    /// The next N pushes are sent to the phone, then answered with this 5xx (a gateway that
    /// failed after Okta acted).
    fail_after_push: Option<(usize, u16)>,
}

impl SimOidc {
    /// Enrolls `login` in an active Okta Verify push factor (and a TOTP one beside it).
    pub fn enroll_push(&self, login: &str) {
        self.enroll(login, "push", "OKTA", "ACTIVE");
        self.enroll(login, "token:software:totp", "OKTA", "ACTIVE");
    }

    /// Adds a factor of any type, provider and status.
    pub fn enroll(&self, login: &str, factor_type: &str, provider: &str, status: &str) {
        let mut st = self.st();
        let Some(user) = st.users.get(&login.to_lowercase()).cloned() else {
            panic!("no user {login} in the sim org");
        };
        let n = st.factors.enrolled.get(&user).map_or(0, Vec::len);
        let id = super::okta_id("opf", &format!("{user}:{factor_type}:{n}"));
        st.factors.enrolled.entry(user).or_default().push(json!({
            "id": id, "factorType": factor_type, "provider": provider, "status": status,
            "vendorName": provider,
        }));
    }

    /// What every push's poll answers from now on: SUCCESS, REJECTED, TIMEOUT (or WAITING).
    pub fn set_push_result(&self, result: &str) {
        self.st().factors.result = Some(result.to_string());
    }

    /// The next `n` pushes reach the phone but their answer is `status` (a 5xx): what a caller
    /// that sends again on a 5xx would turn into a second push.
    pub fn fail_after_push(&self, n: usize, status: u16) {
        self.st().factors.fail_after_push = Some((n, status));
    }

    pub fn pushes(&self) -> Vec<PushCall> {
        self.st().factors.pushes.clone()
    }

    pub(super) fn factor_routes(&self) -> Router {
        Router::new()
            .route("/api/v1/users/{user}/factors", get(list))
            .route("/api/v1/users/{user}/factors/{factor}/verify", post(verify))
            .route(
                "/api/v1/users/{user}/factors/{factor}/transactions/{tx}",
                get(poll),
            )
            .with_state(self.clone())
            .layer(axum::middleware::map_response(rate_headers))
    }
}

/// Okta's rate-limit headers on every answer (a generous bucket: these calls are few), so the
/// bot's pacer sees what it sees on the rest of the API.
async fn rate_headers(mut resp: Response) -> Response {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() + 60)
        .unwrap_or(0);
    let h = resp.headers_mut();
    h.insert("x-rate-limit-limit", header::HeaderValue::from(1200u32));
    h.insert("x-rate-limit-remaining", header::HeaderValue::from(1199u32));
    h.insert("x-rate-limit-reset", header::HeaderValue::from(reset));
    if let Ok(v) =
        header::HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()))
    {
        h.insert(header::DATE, v);
    }
    resp
}

fn okta_error(status: StatusCode, code: &str, summary: &str) -> Response {
    (
        status,
        Json(
            json!({"errorCode": code, "errorSummary": summary, "errorLink": code,
                    "errorId": "sim", "errorCauses": []}),
        ),
    )
        .into_response()
}

fn refused(s: &SimOidc, h: &HeaderMap, method: &str, path: &str, scope: &str) -> Option<Response> {
    s.api_refusal(h, method, path, scope)
}

fn not_found() -> Response {
    okta_error(
        StatusCode::NOT_FOUND,
        "E0000007",
        "Not found: Resource not found",
    )
}

async fn list(
    State(s): State<SimOidc>,
    h: HeaderMap,
    uri: Uri,
    Path(user): Path<String>,
) -> Response {
    if let Some(r) = refused(&s, &h, "GET", uri.path(), "okta.users.read") {
        return r;
    }
    let st = s.st();
    if !st.users.values().any(|id| *id == user) {
        return not_found();
    }
    Json(st.factors.enrolled.get(&user).cloned().unwrap_or_default()).into_response()
}

async fn verify(
    State(s): State<SimOidc>,
    h: HeaderMap,
    uri: Uri,
    Path((user, factor)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    if let Some(r) = refused(&s, &h, "POST", uri.path(), "okta.users.manage") {
        return r;
    }
    // `verifyFactor`: a push needs a User-Agent ("Required to verify `push` factors"), and a
    // body that is not the request's JSON is a validation error.
    if h.get(header::USER_AGENT).is_none() {
        return okta_error(
            StatusCode::BAD_REQUEST,
            "E0000001",
            "Api validation failed: User-Agent is required to verify a push factor",
        );
    }
    let number_matching = if body.is_empty() {
        false
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => match &v["useNumberMatchingChallenge"] {
                Value::Null => false,
                Value::Bool(b) => *b,
                _ => {
                    return okta_error(
                        StatusCode::BAD_REQUEST,
                        "E0000001",
                        "Api validation failed: useNumberMatchingChallenge",
                    )
                }
            },
            Err(_) => {
                return okta_error(
                    StatusCode::BAD_REQUEST,
                    "E0000003",
                    "The request body was not well-formed.",
                )
            }
        }
    };
    let base = s.base_url().to_string();
    let mut st = s.st();
    let Some(f) = st
        .factors
        .enrolled
        .get(&user)
        .and_then(|fs| fs.iter().find(|f| f["id"] == factor.as_str()))
        .cloned()
    else {
        return not_found();
    };
    if f["factorType"] != "push" || f["status"] != "ACTIVE" {
        return okta_error(
            StatusCode::BAD_REQUEST,
            "E0000001",
            "Api validation failed: factor is not an active push factor",
        );
    }
    let tx = super::render::random_id(20);
    let n = st.factors.pushes.len() as u32;
    let correct_answer = 10 + (n * 37 + 23) % 90;
    st.factors.pushes.push(PushCall {
        user_id: user.clone(),
        factor_id: factor.clone(),
        number_matching,
        correct_answer,
        transaction: tx.clone(),
    });
    if let Some((n, status)) = st.factors.fail_after_push {
        st.factors.fail_after_push = (n > 1).then_some((n - 1, status));
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
        return okta_error(status, "E0000009", "Internal Server Error");
    }
    let poll = format!("{base}/api/v1/users/{user}/factors/{factor}/transactions/{tx}");
    let mut body = json!({
        "factorResult": "WAITING",
        "_links": {
            "poll": {"href": poll, "hints": {"allow": ["GET"]}},
            "cancel": {"href": poll, "hints": {"allow": ["DELETE"]}},
        },
    });
    if number_matching {
        body["_embedded"] = json!({"challenge": {"correctAnswer": correct_answer}});
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn poll(
    State(s): State<SimOidc>,
    h: HeaderMap,
    uri: Uri,
    Path((user, factor, tx)): Path<(String, String, String)>,
) -> Response {
    if let Some(r) = refused(&s, &h, "GET", uri.path(), "okta.users.read") {
        return r;
    }
    let st = s.st();
    let known = st
        .factors
        .pushes
        .iter()
        .any(|p| p.user_id == user && p.factor_id == factor && p.transaction == tx);
    if !known {
        return not_found();
    }
    let result = st
        .factors
        .result
        .clone()
        .unwrap_or_else(|| "WAITING".into());
    Json(json!({"factorResult": result})).into_response()
}
