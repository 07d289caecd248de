//! The HTTP side: one fallback handler that routes by hand, so that the bucket, the concurrency
//! gate, injected latency and errors, auth and rate limits apply in one place and in Okta's order.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::Rng;
use serde_json::{json, Value};
use url::form_urlencoded;

use super::org::okta_id;
use super::ratelimit::{epoch_ceil, Bucket, InFlight, RateHeaders};
use super::render::{
    bad_search, bad_search_because, default_code, error, group_json, http_date, json_response,
    not_found, random_id, user_json,
};
use super::search::Expr;
use super::system_log::{self, LogEntry};
use super::{Data, ResetCall, Shared, SimUser};

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// What a request asks for (path segments already percent-decoded).
enum Route {
    ListUsers,
    GetUser(String),
    Reset(String),
    RevokeSessions(String),
    ListGroups,
    GetGroup(String),
    Members(String),
    Assignees,
    UserRoles(String),
    Logs,
    NotFound(String),
}

fn classify(method: &Method, path: &str) -> (Route, Bucket) {
    let trimmed = path.strip_suffix('/').unwrap_or(path);
    let segs: Vec<String> = trimmed.split('/').skip(1).map(percent_decode).collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = *method == Method::GET;
    let post = *method == Method::POST;
    let nf = || Route::NotFound(path.to_string());
    match s.as_slice() {
        ["api", "v1", "users"] if get => (Route::ListUsers, Bucket::UsersList),
        ["api", "v1", "users", id] if get => (Route::GetUser(id.to_string()), Bucket::UsersGet),
        ["api", "v1", "users", id, "roles"] if get => {
            (Route::UserRoles(id.to_string()), Bucket::Other)
        }
        ["api", "v1", "users", id, "lifecycle", "reset_password"] if post => {
            (Route::Reset(id.to_string()), Bucket::UsersPost)
        }
        ["api", "v1", "users", _, ..] if post => (nf(), Bucket::UsersPost),
        ["api", "v1", "users", id, "sessions"] if *method == Method::DELETE => {
            (Route::RevokeSessions(id.to_string()), Bucket::UsersSessions)
        }
        ["api", "v1", "groups"] if get => (Route::ListGroups, Bucket::Groups),
        ["api", "v1", "groups", id] if get => (Route::GetGroup(id.to_string()), Bucket::GroupById),
        ["api", "v1", "groups", id, "users"] if get => {
            (Route::Members(id.to_string()), Bucket::Groups)
        }
        ["api", "v1", "iam", "assignees", "users"] if get => (Route::Assignees, Bucket::Other),
        ["api", "v1", "logs"] if get => (Route::Logs, Bucket::Other),
        _ => (nf(), Bucket::Other),
    }
}

/// Percent-decodes one path segment (`+` stays a plus).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The scope an OAuth token needs for a route (as Okta's management API documents them).
fn scope_of(route: &Route) -> &'static str {
    match route {
        Route::Reset(_) | Route::RevokeSessions(_) => "okta.users.manage",
        Route::ListUsers | Route::GetUser(_) => "okta.users.read",
        Route::ListGroups | Route::GetGroup(_) | Route::Members(_) => "okta.groups.read",
        Route::Assignees | Route::UserRoles(_) => "okta.roles.read",
        Route::Logs => "okta.logs.read",
        Route::NotFound(_) => "okta.users.read",
    }
}

/// `POST /oauth2/v1/token`: not paced by the API's buckets.
async fn token_endpoint(sh: &Shared, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let form: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
    let token_url = format!("{}/oauth2/v1/token", sh.base_url);
    let mut ctl = sh.ctl();
    super::oauth::token(
        &sh.config.oauth_apps,
        &mut ctl.oauth,
        &token_url,
        &parts.headers,
        &form,
    )
}

async fn handle(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    let request_id = random_id(20);
    let is_reset =
        req.method() == Method::POST && req.uri().path().ends_with("/lifecycle/reset_password");
    let mut resp = if req.method() == Method::POST && req.uri().path() == "/oauth2/v1/token" {
        token_endpoint(&sh, req).await
    } else {
        pipeline(&sh, req, &request_id).await
    };
    {
        let mut ctl = sh.ctl();
        if resp.status().is_server_error() {
            ctl.stats.server_errors += 1;
        }
        if resp.status() == StatusCode::UNAUTHORIZED {
            ctl.stats.unauthorized += 1;
            if is_reset {
                ctl.stats.unauthorized_resets += 1;
            }
        }
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-okta-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(SystemTime::now())) {
        h.insert(header::DATE, v);
    }
    resp
}

fn with_rate(mut resp: Response, r: RateHeaders) -> Response {
    let h = resp.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from(r.limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(r.remaining));
    h.insert("x-rate-limit-reset", HeaderValue::from(r.reset));
    resp
}

fn too_many() -> Response {
    let (code, summary) = default_code(StatusCode::TOO_MANY_REQUESTS);
    error(StatusCode::TOO_MANY_REQUESTS, code, summary)
}

/// Why a management API call is not let in: its status, and for a refused DPoP proof the reason
/// and the nonce to use.
pub(super) type AuthRefusal = (StatusCode, Option<(&'static str, Option<String>)>);

/// Who may call the management API: the API token (`SSWS`), or an OAuth access token (`Bearer`,
/// or `DPoP` with its proof) granted `scope`. Shared by every route, the factors' included.
pub(super) fn authorize(
    sh: &Shared,
    ctl: &mut super::Control,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    scope: &str,
) -> Result<(), AuthRefusal> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if presented == format!("SSWS {}", sh.config.api_token) {
        return Ok(());
    }
    let Some((scheme @ ("Bearer" | "DPoP"), token)) = presented.split_once(' ') else {
        return Err((StatusCode::UNAUTHORIZED, None));
    };
    let htu = format!("{}{}", sh.base_url, path);
    super::oauth::check_token(&mut ctl.oauth, scheme, token, headers, method, &htu, scope).map_err(
        |r| match r {
            super::oauth::Refusal::Invalid => (StatusCode::UNAUTHORIZED, None),
            super::oauth::Refusal::Scope => (StatusCode::FORBIDDEN, None),
            super::oauth::Refusal::Proof(why) => (StatusCode::BAD_REQUEST, Some((why, None))),
            super::oauth::Refusal::Nonce(n) => (
                StatusCode::UNAUTHORIZED,
                Some(("Resource server requires nonce in DPoP proof.", Some(n))),
            ),
        },
    )
}

/// The answer to a refused call: Okta's error body; for a refused DPoP proof the OAuth error as
/// Okta's errorCode and in WWW-Authenticate (RFC 9449 §7.1), a missing nonce with the nonce (§9).
pub(super) fn refusal(
    status: StatusCode,
    proof: Option<(&'static str, Option<String>)>,
) -> Response {
    let Some((why, nonce)) = proof else {
        let (code, summary) = default_code(status);
        return error(status, code, summary);
    };
    let code = if nonce.is_some() {
        "use_dpop_nonce"
    } else {
        "invalid_dpop_proof"
    };
    let mut r = error(status, code, why);
    let challenge = format!("DPoP error=\"{code}\"");
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    if let Some(v) = nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
        r.headers_mut().insert("dpop-nonce", v);
    }
    r
}

async fn pipeline(sh: &Shared, req: Request, request_id: &str) -> Response {
    let (parts, _body) = req.into_parts();
    let (route, bucket) = classify(&parts.method, parts.uri.path());
    {
        let mut ctl = sh.ctl();
        ctl.stats.total_calls += 1;
        ctl.stats.calls.bump(bucket);
    }

    let (_in_flight, n) = InFlight::enter(&sh.in_flight);
    if n > sh.config.concurrency_limit {
        sh.ctl().stats.concurrency_limited += 1;
        let now = Instant::now();
        let reset = epoch_ceil(now + Duration::from_secs(1), now);
        let headers = RateHeaders {
            limit: 0,
            remaining: 0,
            reset,
        };
        return with_rate(too_many(), headers);
    }

    let delay = {
        let mut ctl = sh.ctl();
        if matches!(route, Route::Reset(_)) {
            if let Some(d) = ctl.quirks.slow_from_first_reset.take() {
                ctl.latency = Some(d);
            }
        }
        let (mean, jitter) = (ctl.latency.unwrap_or(sh.config.latency), sh.config.jitter);
        if jitter.is_zero() {
            mean
        } else {
            let j = jitter.as_secs_f64();
            let d = mean.as_secs_f64() + ctl.rng.gen_range(-j..=j);
            Duration::from_secs_f64(d.max(0.0))
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    let admitted = {
        let mut ctl = sh.ctl();
        if let Some(ua) = user_agent(&parts.headers) {
            if !ctl.user_agents.contains(&ua) {
                ctl.user_agents.insert(ua);
            }
        }
        let authorized = authorize(
            sh,
            &mut ctl,
            &parts.headers,
            parts.method.as_str(),
            parts.uri.path(),
            scope_of(&route),
        );
        let now = Instant::now();
        let rate = ctl.error_rate_5xx;
        if rate > 0.0 && ctl.rng.gen::<f64>() < rate {
            Err((
                StatusCode::INTERNAL_SERVER_ERROR,
                ctl.limiter.peek(bucket, now),
            ))
        } else if ctl.token_revoked {
            Err((StatusCode::UNAUTHORIZED, ctl.limiter.peek(bucket, now)))
        } else if let Err((status, proof)) = authorized {
            if proof.is_some() {
                return with_rate(refusal(status, proof), ctl.limiter.peek(bucket, now));
            }
            Err((status, ctl.limiter.peek(bucket, now)))
        } else if ctl.no_admin_role {
            Err((StatusCode::FORBIDDEN, ctl.limiter.peek(bucket, now)))
        } else {
            match ctl.limiter.take(bucket, now) {
                Ok(h) => Ok(h),
                Err(h) => {
                    ctl.stats.rate_limited += 1;
                    ctl.stats.rate_limited_by_bucket.bump(bucket);
                    Err((StatusCode::TOO_MANY_REQUESTS, h))
                }
            }
        }
    };
    let rate = match admitted {
        Ok(h) => h,
        Err((status, h)) => {
            let (code, summary) = default_code(status);
            return with_rate(error(status, code, summary), h);
        }
    };

    let qs: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let hang = match route {
        Route::Reset(_) => sh.ctl().hang_resets,
        _ => None,
    };
    if matches!(route, Route::RevokeSessions(_)) && sh.ctl().revocations_held {
        while sh.ctl().revocations_held {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (code, summary) = default_code(StatusCode::SERVICE_UNAVAILABLE);
        return with_rate(error(StatusCode::SERVICE_UNAVAILABLE, code, summary), rate);
    }
    let mut resp = match route {
        Route::ListUsers => list_users(sh, &qs),
        Route::GetUser(id) => get_user(sh, &id),
        Route::Reset(id) => reset(sh, &id, &parts, &qs, request_id),
        Route::RevokeSessions(id) => revoke_sessions(sh, &id, &qs, &parts.headers),
        Route::ListGroups => list_groups(sh, &qs),
        Route::GetGroup(id) => get_group(sh, &id),
        Route::Members(id) => members(sh, &id, &qs),
        Route::Assignees => assignees(sh, &qs),
        Route::UserRoles(id) => user_roles(sh, &id, &qs),
        Route::Logs => logs(sh, &qs),
        Route::NotFound(path) => not_found(&path, "Resource"),
    };
    if let Some(d) = hang {
        tokio::time::sleep(d).await;
    }
    let quirks = sh.ctl().quirks.clone();
    if let Some(host) = &quirks.link_host {
        let links: Vec<String> = resp
            .headers()
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.replace("127.0.0.1", host))
            .collect();
        resp.headers_mut().remove(header::LINK);
        for l in links {
            if let Ok(v) = HeaderValue::from_str(&l) {
                resp.headers_mut().append(header::LINK, v);
            }
        }
    }
    if quirks.omit_rate_headers {
        return resp;
    }
    with_rate(resp, rate)
}

fn param<'a>(qs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    qs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `limit`, defaulted and capped at the configured maximum.
fn page_limit(qs: &[(String, String)], default: usize, max: usize) -> usize {
    param(qs, "limit")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(default)
        .clamp(1, max.max(1))
}

pub(super) fn add_link_pub(resp: &mut Response, url: &str, rel: &str) {
    add_link(resp, url, rel)
}

/// `GET /api/v1/logs`, or 403 when the token may not read the log.
fn logs(sh: &Shared, qs: &[(String, String)]) -> Response {
    if sh.ctl().quirks.logs_forbidden {
        let (code, summary) = default_code(StatusCode::FORBIDDEN);
        return error(StatusCode::FORBIDDEN, code, summary);
    }
    super::system_log::list(sh, qs)
}

fn add_link(resp: &mut Response, url: &str, rel: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("<{url}>; rel=\"{rel}\"")) {
        resp.headers_mut().append(header::LINK, v);
    }
}

/// Position after the cursor in an id-sorted sequence of user indexes.
fn after_pos(data: &Data, idx: &[u32], after: Option<&str>) -> usize {
    match after {
        Some(a) => idx.partition_point(|&i| data.users[i as usize].id.as_str() <= a),
        None => 0,
    }
}

fn user_out(sh: &Shared, data: &Data, i: u32, detail: bool) -> Value {
    let changed = data.status_changed.get(&i).copied();
    let u = &data.users[i as usize];
    let mut v = user_json(&sh.base_url, u, changed, detail);
    let ctl = sh.ctl();
    if !detail && ctl.quirks.omit_list_credentials {
        if let Some(o) = v.as_object_mut() {
            o.remove("credentials");
        }
    }
    let spoil = if detail {
        &ctl.quirks.malformed_detail
    } else {
        &ctl.quirks.malformed_list
    };
    if let Some(how) = spoil.get(&u.id) {
        how.apply(&mut v);
    }
    v
}

const USER_ATTRS: [&str; 7] = [
    "id",
    "status",
    "profile.login",
    "profile.email",
    "profile.firstName",
    "profile.lastName",
    "profile.department",
];

fn user_attr<'a>(u: &'a SimUser, attr: &str) -> Option<&'a str> {
    Some(match attr {
        "id" => &u.id,
        "status" => &u.status,
        "profile.login" => &u.login,
        "profile.email" => &u.email,
        "profile.firstName" => &u.first_name,
        "profile.lastName" => &u.last_name,
        "profile.department" if !u.department.is_empty() => &u.department,
        _ => return None,
    })
}

fn get_user(sh: &Shared, id_or_login: &str) -> Response {
    let data = sh.data();
    let found = if id_or_login.contains('/') {
        None
    } else {
        data.user_index(id_or_login)
            .or_else(|| data.by_login.get(&id_or_login.to_lowercase()).copied())
    };
    match found {
        Some(i) => json_response(StatusCode::OK, &user_out(sh, &data, i, true)),
        None => not_found(id_or_login, "User"),
    }
}

fn list_users(sh: &Shared, qs: &[(String, String)]) -> Response {
    let limit = page_limit(qs, 200, sh.config.page_limit_max);
    let (key, raw) = match (param(qs, "search"), param(qs, "filter")) {
        (Some(s), _) => (Some("search"), s),
        (None, Some(f)) => (Some("filter"), f),
        (None, None) => (None, ""),
    };
    let expr = match key {
        Some(k) => match Expr::parse(raw, &|a| USER_ATTRS.contains(&a)) {
            Ok(e) => match e.unsupported_in_user_search().filter(|_| k == "search") {
                Some(cause) => return bad_search_because(&[cause]),
                None => Some(e),
            },
            Err(e) => return bad_search_because(&[e.0]),
        },
        None => None,
    };
    let q = param(qs, "q")
        .filter(|_| expr.is_none())
        .map(str::to_lowercase);
    let data = sh.data();
    let keep = |u: &SimUser| match (&expr, &q) {
        (Some(e), _) => e.matches(&|a| user_attr(u, a)),
        (None, Some(q)) => [&u.first_name, &u.last_name, &u.email]
            .iter()
            .any(|v| v.to_lowercase().starts_with(q.as_str())),
        (None, None) => u.status != "DEPROVISIONED",
    };
    let start = match param(qs, "after").filter(|_| q.is_none()) {
        Some(a) => data.users.partition_point(|u| u.id.as_str() <= a),
        None => 0,
    };
    let mut hits = (start..data.users.len())
        .filter(|&i| keep(&data.users[i]))
        .take(limit + 1)
        .map(|i| i as u32)
        .collect::<Vec<_>>();
    let more = hits.len() > limit && q.is_none();
    hits.truncate(limit);
    let body = Value::Array(
        hits.iter()
            .map(|&i| user_out(sh, &data, i, false))
            .collect(),
    );
    let mut resp = json_response(StatusCode::OK, &body);
    let link = |after: Option<&str>| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        if let Some(a) = after {
            ser.append_pair("after", a);
        }
        ser.append_pair("limit", &limit.to_string());
        if let Some(k) = key {
            ser.append_pair(k, raw);
        }
        format!("{}/api/v1/users?{}", sh.base_url, ser.finish())
    };
    add_link(&mut resp, &link(None), "self");
    if let (true, Some(&last)) = (more, hits.last()) {
        add_link(
            &mut resp,
            &link(Some(&data.users[last as usize].id)),
            "next",
        );
    }
    resp
}

const GROUP_ATTRS: [&str; 4] = ["id", "type", "profile.name", "profile.description"];

fn list_groups(sh: &Shared, qs: &[(String, String)]) -> Response {
    let data = sh.data();
    let expr_src = param(qs, "search").or_else(|| param(qs, "filter"));
    let selected: Vec<usize> = if let Some(src) = expr_src {
        let Ok(expr) = Expr::parse(src, &|a| GROUP_ATTRS.contains(&a)) else {
            return bad_search();
        };
        (0..data.groups.len())
            .filter(|&i| {
                let g = &data.groups[i];
                expr.matches(&|a| match a {
                    "id" => Some(g.id.as_str()),
                    "type" => Some(g.kind.as_str()),
                    "profile.name" => Some(g.name.as_str()),
                    "profile.description" => Some(""),
                    _ => None,
                })
            })
            .collect()
    } else if let Some(prefix) = param(qs, "q") {
        let prefix = prefix.to_lowercase();
        let cap = page_limit(qs, 300, 300);
        (0..data.groups.len())
            .filter(|&i| data.groups[i].name.to_lowercase().starts_with(&prefix))
            .take(cap)
            .collect()
    } else {
        (0..data.groups.len()).collect()
    };
    let body = Value::Array(
        selected
            .into_iter()
            .map(|i| {
                let g = &data.groups[i];
                group_json(&sh.base_url, &g.id, &g.name, &g.kind)
            })
            .collect(),
    );
    json_response(StatusCode::OK, &body)
}

fn get_group(sh: &Shared, id: &str) -> Response {
    let data = sh.data();
    match data.group_by_id.get(id) {
        Some(&gi) => {
            let g = &data.groups[gi];
            json_response(
                StatusCode::OK,
                &group_json(&sh.base_url, &g.id, &g.name, &g.kind),
            )
        }
        None => not_found(id, "UserGroup"),
    }
}

fn members(sh: &Shared, gid: &str, qs: &[(String, String)]) -> Response {
    let data = sh.data();
    let Some(&gi) = data.group_by_id.get(gid) else {
        return not_found(gid, "UserGroup");
    };
    let g = &data.groups[gi];
    let limit = page_limit(qs, 200, sh.config.page_limit_max);
    let start = after_pos(&data, &g.members, param(qs, "after"));
    let end = (start + limit).min(g.members.len());
    let page = &g.members[start..end];
    let body = Value::Array(
        page.iter()
            .map(|&i| user_out(sh, &data, i, false))
            .collect(),
    );
    let mut resp = json_response(StatusCode::OK, &body);
    let base = format!("{}/api/v1/groups/{}/users", sh.base_url, g.id);
    add_link(&mut resp, &format!("{base}?limit={limit}"), "self");
    if let (true, Some(&last)) = (end < g.members.len(), page.last()) {
        let cursor: String =
            form_urlencoded::byte_serialize(data.users[last as usize].id.as_bytes()).collect();
        add_link(
            &mut resp,
            &format!("{base}?after={cursor}&limit={limit}"),
            "next",
        );
    }
    resp
}

/// The role reads answer 403 when the token's admin may not view roles.
fn roles_forbidden(sh: &Shared) -> Option<Response> {
    sh.ctl().quirks.roles_forbidden.then(|| {
        let (code, summary) = default_code(StatusCode::FORBIDDEN);
        error(StatusCode::FORBIDDEN, code, summary)
    })
}

/// `GET /api/v1/iam/assignees/users`. Okta's spec and documentation do not say whether a user
/// holding a role only through a group is listed; the sim lists only direct assignments, the
/// case a reader of this list alone would get wrong (group-held roles show in `user_roles`).
fn assignees(sh: &Shared, qs: &[(String, String)]) -> Response {
    if let Some(refused) = roles_forbidden(sh) {
        return refused;
    }
    let data = sh.data();
    let limit = page_limit(qs, 100, sh.config.page_limit_max);
    let start = match param(qs, "after") {
        Some(a) => data.users.partition_point(|u| u.id.as_str() <= a),
        None => 0,
    };
    let mut hits: Vec<&SimUser> = data.users[start..]
        .iter()
        .filter(|u| u.has_direct_role())
        .take(limit + 1)
        .collect();
    let more = hits.len() > limit;
    hits.truncate(limit);
    let base = &sh.base_url;
    let value: Vec<Value> = hits
        .iter()
        .map(|u| {
            json!({
                "id": u.id,
                "orn": format!("orn:okta:directory:00osimorg0000000000:users:{}", u.id),
                "_links": {
                    "self": {"href": format!("{base}/api/v1/users/{}", u.id)},
                    "roles": {"href": format!("{base}/api/v1/users/{}/roles", u.id)},
                },
            })
        })
        .collect();
    let mut links = json!({});
    if let (true, Some(last)) = (more, hits.last()) {
        links["next"] = json!({
            "href": format!("{base}/api/v1/iam/assignees/users?after={}&limit={limit}", last.id)
        });
    }
    json_response(StatusCode::OK, &json!({"value": value, "_links": links}))
}

/// `GET /api/v1/users/{id}/roles`: the user's role assignments, those made to the user
/// (`assignmentType: USER`) and those of every group the user is in (`GROUP`, its `assignee`
/// link naming the group), as Okta documents. Not paged.
fn user_roles(sh: &Shared, id: &str, qs: &[(String, String)]) -> Response {
    if let Some(refused) = roles_forbidden(sh) {
        return refused;
    }
    if param(qs, "expand").is_some_and(|e| !matches!(e, "targets/groups" | "targets/catalog/apps"))
    {
        return invalid_param("expand");
    }
    let data = sh.data();
    let Some(i) = data.user_index(id) else {
        return not_found(id, "User");
    };
    let base = &sh.base_url;
    let u = &data.users[i as usize];
    let direct = u
        .roles
        .iter()
        .map(|r| (r, "USER", format!("{base}/api/v1/users/{}", u.id)));
    let through_groups = data
        .groups
        .iter()
        .filter(|g| g.members.binary_search(&i).is_ok())
        .flat_map(|g| {
            g.roles
                .iter()
                .map(move |r| (r, "GROUP", format!("{base}/api/v1/groups/{}", g.id)))
        });
    let roles: Vec<Value> = direct
        .chain(through_groups)
        .map(|(role, kind, assignee)| {
            json!({
                "id": okta_id("ra1", &format!("{assignee}:{role}")),
                "label": role,
                "type": role,
                "status": "ACTIVE",
                "created": "2024-02-01T09:00:00.000Z",
                "lastUpdated": "2024-02-01T09:00:00.000Z",
                "assignmentType": kind,
                "_links": {"assignee": {"href": assignee}},
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(roles))
}

/// A boolean query parameter: `Err(())` when present but neither `true` nor `false`.
fn bool_param(qs: &[(String, String)], key: &str) -> Result<Option<bool>, ()> {
    match param(qs, key) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(()),
    }
}

fn invalid_param(key: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "E0000001",
        &format!("Api validation failed: {key}"),
    )
}

fn reset(
    sh: &Shared,
    id: &str,
    parts: &Parts,
    qs: &[(String, String)],
    request_id: &str,
) -> Response {
    if !parts.headers.contains_key(header::CONTENT_LENGTH) {
        return (StatusCode::LENGTH_REQUIRED, "Length Required").into_response();
    }
    {
        let mut ctl = sh.ctl();
        if ctl.resets_forbidden {
            let (code, summary) = default_code(StatusCode::FORBIDDEN);
            return error(StatusCode::FORBIDDEN, code, summary);
        }
        if let Some((n, status)) = ctl.fail_next {
            ctl.fail_next = (n > 1).then_some((n - 1, status));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            if let Some((code, summary)) = &ctl.fail_next_body {
                return error(status, code, summary);
            }
            let (code, summary) = default_code(status);
            return error(status, code, summary);
        }
    }
    let send_email = match bool_param(qs, "sendEmail") {
        Ok(Some(v)) => v,
        Ok(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "E0000028",
                "The request is missing a required parameter.",
            )
        }
        Err(()) => return invalid_param("sendEmail"),
    };
    let revoke_sessions = match bool_param(qs, "revokeSessions") {
        Ok(v) => v.unwrap_or(false),
        Err(()) => return invalid_param("revokeSessions"),
    };
    let mut data = sh.data();
    let Some(i) = data.user_index(id) else {
        return not_found(id, "User");
    };
    if !data.users[i as usize].can_reset() {
        return error(
            StatusCode::FORBIDDEN,
            "E0000038",
            "This operation is not allowed in the user's current status.",
        );
    }
    let now = SystemTime::now();
    // As in Okta: a reset makes a federated or social user an Okta-password user.
    if matches!(
        data.users[i as usize].provider.as_str(),
        "FEDERATION" | "SOCIAL"
    ) {
        data.users[i as usize].provider = "OKTA".to_string();
    }
    data.users[i as usize].status = "RECOVERY".to_string();
    data.status_changed.insert(i, now);
    data.reset_calls.push(ResetCall {
        user_id: id.to_string(),
        send_email,
        revoke_sessions,
        at: now,
        request_id: request_id.to_string(),
        user_agent: user_agent(&parts.headers),
        retry_for: header_text(&parts.headers, "x-okta-retry-for"),
        retry_count: header_text(&parts.headers, "x-okta-retry-count"),
    });
    *data.reset_counts.entry(id.to_string()).or_default() += 1;
    let ua = user_agent(&parts.headers);
    let lag = sh.log_lag();
    data.system_log
        .push(LogEntry::new(system_log::RESET_EVENT, id, ua.clone(), lag));
    if revoke_sessions {
        data.system_log
            .push(LogEntry::new(system_log::SESSION_CLEAR_EVENT, id, ua, lag));
    }
    let mut ctl = sh.ctl();
    if let Some(how) = ctl.quirks.malformed_detail_after_reset.remove(id) {
        ctl.quirks.malformed_detail.insert(id.to_string(), how);
    }
    if ctl.quirks.garbled_reset_bodies {
        return (StatusCode::OK, "<html>not json").into_response();
    }
    json_response(StatusCode::OK, &json!({}))
}

/// `DELETE /api/v1/users/{userId}/sessions` (`revokeUserSessions`): `oauthTokens` (default
/// false) and `forgetDevices` (default true) must be booleans; an unknown user is a 404; done,
/// it answers 204 with no body. Okta accepts it in any user status, and repeating it is harmless.
fn revoke_sessions(
    sh: &Shared,
    id: &str,
    qs: &[(String, String)],
    headers: &HeaderMap,
) -> Response {
    {
        let mut ctl = sh.ctl();
        if let Some((n, status)) = ctl.fail_next_revocations {
            ctl.fail_next_revocations = (n > 1).then_some((n - 1, status));
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let (code, summary) = default_code(status);
            return error(status, code, summary);
        }
    }
    let oauth_tokens = match bool_param(qs, "oauthTokens") {
        Ok(v) => v.unwrap_or(false),
        Err(()) => return invalid_param("oauthTokens"),
    };
    let forget_devices = match bool_param(qs, "forgetDevices") {
        Ok(v) => v.unwrap_or(true),
        Err(()) => return invalid_param("forgetDevices"),
    };
    let mut data = sh.data();
    if data.user_index(id).is_none() {
        return not_found(id, "User");
    }
    data.revocations.push(super::Revocation {
        user_id: id.to_string(),
        oauth_tokens,
        forget_devices,
        at: SystemTime::now(),
    });
    // Okta's System Log records the sessions cleared, with the caller's User-Agent.
    let lag = sh.log_lag();
    data.system_log.push(LogEntry::new(
        system_log::SESSION_CLEAR_EVENT,
        id,
        user_agent(headers),
        lag,
    ));
    StatusCode::NO_CONTENT.into_response()
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    header_text(headers, header::USER_AGENT.as_str())
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
