//! Drives the simulated org over real HTTP with reqwest.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{header, Client, Response, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

async fn start(org: SimOrg, config: OktaSimConfig) -> (OktaSim, Client) {
    let sim = OktaSim::start(org, config).await.expect("sim starts");
    (sim, Client::new())
}

async fn demo() -> (OktaSim, Client) {
    start(SimOrg::demo(), OktaSimConfig::default()).await
}

async fn get(sim: &OktaSim, c: &Client, path_and_query: &str) -> Response {
    c.get(format!("{}{}", sim.base_url(), path_and_query))
        .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
        .send()
        .await
        .unwrap()
}

async fn get_q(sim: &OktaSim, c: &Client, path: &str, query: &[(&str, &str)]) -> Response {
    c.get(format!("{}{}", sim.base_url(), path))
        .query(query)
        .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
        .send()
        .await
        .unwrap()
}

async fn reset(sim: &OktaSim, c: &Client, id: &str, query: &str) -> Response {
    c.post(format!(
        "{}/api/v1/users/{id}/lifecycle/reset_password{query}",
        sim.base_url()
    ))
    .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
    .header(header::CONTENT_LENGTH, "0")
    .send()
    .await
    .unwrap()
}

fn hdr(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

fn hdr_u64(r: &Response, name: &str) -> u64 {
    hdr(r, name).parse().unwrap()
}

fn link(r: &Response, rel: &str) -> Option<String> {
    let suffix = format!("; rel=\"{rel}\"");
    r.headers().get_all(header::LINK).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let url = v.strip_suffix(&suffix)?;
        Some(
            url.trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        )
    })
}

async fn error_code(r: Response) -> String {
    let body: Value = r.json().await.unwrap();
    for key in ["errorSummary", "errorLink", "errorId"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
    assert!(body["errorCauses"].is_array());
    body["errorCode"].as_str().unwrap().to_string()
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn auth_is_required_and_revocable() {
    let (sim, c) = demo().await;
    let url = format!("{}/api/v1/groups", sim.base_url());

    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(hdr(&r, "content-type"), "application/json");
    assert!(hdr(&r, "x-okta-request-id").len() >= 20);
    assert!(hdr(&r, "date").ends_with(" GMT"));
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "500");
    assert_eq!(error_code(r).await, "E0000011");

    let r = c
        .get(&url)
        .header(header::AUTHORIZATION, "SSWS wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c
        .get(&url)
        .header(header::AUTHORIZATION, "Bearer sim-okta-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = get(&sim, &c, "/api/v1/groups").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hdr(&r, "x-rate-limit-remaining"), "499");

    sim.revoke_token();
    let r = get(&sim, &c, "/api/v1/groups").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(r).await, "E0000011");
    let r = reset(&sim, &c, "00uwhatever", "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sim.stats().unauthorized, 5);
    assert!(sim.reset_calls().is_empty());
}

#[tokio::test]
async fn single_user_by_id_and_login() {
    let (sim, c) = demo().await;
    let alice = sim.user_id_by_login("alice@example.com").unwrap();
    assert!(alice.starts_with("00u") && alice.len() == 20);

    let r = get(&sim, &c, "/api/v1/users/ALICE%40Example.COM").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "2000");
    assert_eq!(hdr(&r, "x-rate-limit-remaining"), "1999");
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["id"], alice.as_str());
    assert_eq!(u["status"], "ACTIVE");
    assert_eq!(u["profile"]["login"], "alice@example.com");
    assert_eq!(u["profile"]["firstName"], "Alice");
    assert_eq!(u["credentials"]["provider"]["type"], "OKTA");
    assert!(u["credentials"]["password"].is_object());
    assert!(u["type"]["id"].as_str().unwrap().starts_with("oty"));
    assert_eq!(
        u["_links"]["self"]["href"],
        format!("{}/api/v1/users/{alice}", sim.base_url())
    );
    assert_eq!(
        u["_links"]["resetPassword"]["href"],
        format!(
            "{}/api/v1/users/{alice}/lifecycle/reset_password",
            sim.base_url()
        )
    );
    assert_eq!(u["_links"]["resetPassword"]["method"], "POST");

    let by_id: Value = get(&sim, &c, &format!("/api/v1/users/{alice}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id["profile"]["login"], "alice@example.com");

    // Statuses that cannot be reset carry no resetPassword link.
    let suspended = sim
        .user_id_by_login("c36.usher@contractors.example.com")
        .unwrap();
    let u: Value = get(&sim, &c, &format!("/api/v1/users/{suspended}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["status"], "SUSPENDED");
    assert!(u["_links"]["self"].is_object());
    assert!(u["_links"].get("resetPassword").is_none());

    // Federated users have no password credential.
    let fed = sim
        .user_id_by_login("c33.ramos@contractors.example.com")
        .unwrap();
    let u: Value = get(&sim, &c, &format!("/api/v1/users/{fed}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["credentials"]["provider"]["type"], "FEDERATION");
    assert!(u["credentials"].get("password").is_none());

    for missing in ["/api/v1/users/nobody%40example.com", "/api/v1/users/a%2Fb"] {
        let r = get(&sim, &c, missing).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(error_code(r).await, "E0000007");
    }
    let r = get(&sim, &c, "/api/v1/nothing/here").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "1200");
}

#[tokio::test]
async fn group_search_exact_case_insensitive_and_ambiguous() {
    let (sim, c) = demo().await;
    let search = |name: &str| format!("profile.name eq \"{name}\"");

    let r = get_q(
        &sim,
        &c,
        "/api/v1/groups",
        &[("search", &search("CONTRACTORS"))],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "500");
    let groups: Value = r.json().await.unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(groups[0]["profile"]["name"], "contractors");
    assert_eq!(groups[0]["type"], "OKTA_GROUP");
    assert_eq!(ids(&groups), sim.group_ids_named("contractors"));

    let groups: Value = get_q(
        &sim,
        &c,
        "/api/v1/groups",
        &[("search", &search("engineering"))],
    )
    .await
    .json()
    .await
    .unwrap();
    let eng = ids(&groups);
    assert_eq!(eng.len(), 2);
    assert_ne!(eng[0], eng[1]);
    let kinds: HashSet<&str> = groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, HashSet::from(["OKTA_GROUP", "APP_GROUP"]));

    let groups: Value = get_q(
        &sim,
        &c,
        "/api/v1/groups",
        &[("search", &search("Sales & <Marketing>"))],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(groups[0]["profile"]["name"], "Sales & <Marketing>");
    let sales_id = groups[0]["id"].as_str().unwrap().to_string();
    let members: Value = get(&sim, &c, &format!("/api/v1/groups/{sales_id}/users"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members.as_array().unwrap().len(), 3);

    // Exact match only: a prefix is not a hit.
    let groups: Value = get_q(
        &sim,
        &c,
        "/api/v1/groups",
        &[("search", &search("contract"))],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 0);
    // q= is a prefix match.
    let groups: Value = get_q(&sim, &c, "/api/v1/groups", &[("q", "eng")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 2);

    let r = get_q(
        &sim,
        &c,
        "/api/v1/groups",
        &[("search", "profile.name eq contractors")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(r).await, "E0000031");

    let r = get(&sim, &c, &format!("/api/v1/groups/{sales_id}")).await;
    // Its own family: "get a group by id" (1,000 a minute), not "most other calls".
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "1000");
    let g: Value = r.json().await.unwrap();
    assert_eq!(g["id"], sales_id.as_str());
    let r = get(&sim, &c, "/api/v1/groups/00gmissing").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(r).await, "E0000007");
}

#[tokio::test]
async fn member_pages_follow_link_next_verbatim() {
    let org = SimOrg::new().with_generated_group("big", 450);
    let group_id = org.groups[0].id.clone();
    let expected: HashSet<String> = org.groups[0].members.iter().cloned().collect();
    let (sim, c) = start(org, OktaSimConfig::default()).await;

    let mut url = format!(
        "{}/api/v1/groups/{group_id}/users?limit=200",
        sim.base_url()
    );
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let r = c
            .get(&url)
            .header(header::AUTHORIZATION, "SSWS sim-okta-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            link(&r, "self").unwrap(),
            format!(
                "{}/api/v1/groups/{group_id}/users?limit=200",
                sim.base_url()
            )
        );
        let next = link(&r, "next");
        let page: Value = r.json().await.unwrap();
        sizes.push(page.as_array().unwrap().len());
        for u in page.as_array().unwrap() {
            assert_eq!(u["status"], "ACTIVE");
            assert_eq!(u["_links"].as_object().unwrap().len(), 1, "only self");
        }
        seen.extend(ids(&page));
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(sizes, vec![200, 200, 50]);
    assert_eq!(seen.len(), 450);
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), expected);
    assert_eq!(sim.stats().calls.groups, 3);

    // Larger limits are capped at 200.
    let r = get(
        &sim,
        &c,
        &format!("/api/v1/groups/{group_id}/users?limit=1000"),
    )
    .await;
    assert!(link(&r, "next").unwrap().ends_with("&limit=200"));
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn user_search_operators() {
    let (sim, c) = demo().await;
    let search = |expr: &str| {
        let (sim, c) = (sim.clone(), c.clone());
        let expr = expr.to_string();
        async move { get_q(&sim, &c, "/api/v1/users", &[("search", expr.as_str())]).await }
    };
    let logins = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|u| u["profile"]["login"].as_str().unwrap().to_string())
            .collect()
    };

    let r = search(r#"profile.login eq "BOB@example.com""#).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(logins(&r.json().await.unwrap()), vec!["bob@example.com"]);

    let v: Value = search(r#"profile.login sw "c0""#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 9);

    let v: Value = search(r#"profile.login sw "c" and status eq "SUSPENDED""#)
        .await
        .json()
        .await
        .unwrap();
    let mut got = logins(&v);
    got.sort();
    assert_eq!(
        got,
        vec![
            "c36.usher@contractors.example.com",
            "c37.voss@contractors.example.com"
        ]
    );

    let v: Value = search(r#"profile.firstName eq "alice" or profile.lastName co "&""#)
        .await
        .json()
        .await
        .unwrap();
    let mut got = logins(&v);
    got.sort();
    assert_eq!(
        got,
        vec!["alice@example.com", "c08.obrien@contractors.example.com"]
    );

    // Results include DEPROVISIONED users; a plain list does not.
    let v: Value = search(r#"status eq "DEPROVISIONED""#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(logins(&v), vec!["c40.zane@contractors.example.com"]);
    let all: Value = get(&sim, &c, "/api/v1/users").await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 40 + 4 + 3 - 1);

    for bad in [
        r#"profile.login eq"#,
        r#"profile.login like "x""#,
        r#"profile.login eq "x" and"#,
        r#"profile.nope eq "x""#,
        // Okta's spec: `ne` isn't supported in a user search, `co` only on four attributes.
        r#"profile.department ne "Sales""#,
        r#"status eq "ACTIVE" and profile.department co "Sal""#,
    ] {
        let r = search(bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(error_code(r).await, "E0000031");
    }
    let body: Value = search(r#"profile.department ne "Sales""#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["errorCauses"][0]["errorSummary"],
        "The 'ne' operator is not supported in a user search."
    );

    // Search results page with Link next.
    let r = get_q(
        &sim,
        &c,
        "/api/v1/users",
        &[
            ("search", r#"profile.email co "@CONTRACTORS.""#),
            ("limit", "25"),
        ],
    )
    .await;
    let next = link(&r, "next").unwrap();
    let first: Value = r.json().await.unwrap();
    assert_eq!(first.as_array().unwrap().len(), 25);
    let r = c
        .get(&next)
        .header(header::AUTHORIZATION, "SSWS sim-okta-token")
        .send()
        .await
        .unwrap();
    assert!(link(&r, "next").is_none());
    let second: Value = r.json().await.unwrap();
    assert_eq!(second.as_array().unwrap().len(), 15);
    let union: HashSet<String> = ids(&first).into_iter().chain(ids(&second)).collect();
    assert_eq!(union.len(), 40);
}

async fn revoke(sim: &OktaSim, c: &Client, id: &str, query: &str) -> Response {
    c.delete(format!(
        "{}/api/v1/users/{id}/sessions{query}",
        sim.base_url()
    ))
    .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn session_revocations_follow_okta_and_are_recorded_per_user() {
    let (sim, c) = demo().await;
    let lee = sim
        .user_id_by_login("c01.lee@contractors.example.com")
        .unwrap();
    let r = revoke(&sim, &c, &lee, "?oauthTokens=true&forgetDevices=true").await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(hdr(&r, "x-rate-limit-remaining"), "599");
    assert_eq!(r.bytes().await.unwrap().len(), 0);
    // Okta's defaults: oauthTokens false, forgetDevices true.
    assert_eq!(
        revoke(&sim, &c, &lee, "").await.status(),
        StatusCode::NO_CONTENT
    );
    let rs = sim.revocations();
    assert_eq!(rs.len(), 2);
    assert!(rs[0].user_id == lee && rs[0].oauth_tokens && rs[0].forget_devices);
    assert!(!rs[1].oauth_tokens && rs[1].forget_devices);
    assert_eq!(sim.revocation_count(&lee), 2);
    // Each revocation is in the org's System Log, as Okta records it.
    let cleared = sim
        .system_log()
        .iter()
        .filter(|e| e.event_type == super::system_log::SESSION_CLEAR_EVENT && e.target_id == lee)
        .count();
    assert_eq!(cleared, 2);
    // Refused as Okta refuses: a bad boolean, an unknown user. Nothing recorded.
    let r = revoke(&sim, &c, &lee, "?oauthTokens=yes").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000001");
    let r = revoke(&sim, &c, "00unobody", "?oauthTokens=true").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000007");
    // Injected failures revoke nothing.
    sim.fail_next_revocations(1, 503);
    let r = revoke(&sim, &c, &lee, "?oauthTokens=true").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(sim.revocation_count(&lee), 2);
    assert_eq!(sim.stats().calls.users_sessions, 5);
    // Held, then released: the held call answers 503 unapplied.
    sim.hold_revocations(true);
    let held = tokio::spawn({
        let (c, url) = (
            c.clone(),
            format!("{}/api/v1/users/{lee}/sessions", sim.base_url()),
        );
        let token = format!("SSWS {}", sim.api_token());
        async move {
            c.delete(url)
                .header(header::AUTHORIZATION, token)
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    while sim.stats().calls.users_sessions < 6 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sim.hold_revocations(false);
    assert_eq!(held.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(sim.revocation_count(&lee), 2);
}

#[tokio::test]
async fn reset_password_rules() {
    let (sim, c) = demo().await;
    let lee = sim
        .user_id_by_login("c01.lee@contractors.example.com")
        .unwrap();

    let r = reset(&sim, &c, &lee, "?sendEmail=true&revokeSessions=true").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "600");
    assert_eq!(hdr(&r, "x-rate-limit-remaining"), "599");
    let request_id = hdr(&r, "x-okta-request-id");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, serde_json::json!({}));
    assert_eq!(sim.user_status(&lee).as_deref(), Some("RECOVERY"));
    assert_eq!(sim.reset_count(&lee), 1);
    let calls = sim.reset_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].user_id, lee);
    assert!(calls[0].send_email && calls[0].revoke_sessions);
    assert_eq!(calls[0].request_id, request_id);
    let u: Value = get(&sim, &c, &format!("/api/v1/users/{lee}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(u["status"], "RECOVERY");
    assert!(u["_links"]["resetPassword"].is_object());

    // RECOVERY may be reset again; revokeSessions defaults to false.
    let r = reset(&sim, &c, &lee, "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sim.reset_count(&lee), 2);
    assert!(!sim.reset_calls()[1].revoke_sessions);

    let suspended = sim
        .user_id_by_login("c37.voss@contractors.example.com")
        .unwrap();
    let r = reset(&sim, &c, &suspended, "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "E0000038");
    assert_eq!(sim.user_status(&suspended).as_deref(), Some("SUSPENDED"));
    assert_eq!(sim.reset_count(&suspended), 0);

    let r = reset(&sim, &c, &lee, "").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(r).await, "E0000028");

    let r = reset(&sim, &c, "00unknownuser0000000", "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(r).await, "E0000007");

    // No Content-Length: 411, written by hand so no client adds one.
    let addr = sim.base_url().trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let req = format!(
        "POST /api/v1/users/{lee}/lifecycle/reset_password?sendEmail=true HTTP/1.1\r\n\
         Host: {addr}\r\nAuthorization: SSWS sim-okta-token\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut raw = String::new();
    tcp.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 411"), "{raw}");
    assert_eq!(sim.reset_count(&lee), 2);

    // The sim does not refuse federated users: the bot must never send them.
    let fed = sim
        .user_id_by_login("c34.stone@contractors.example.com")
        .unwrap();
    assert_eq!(reset(&sim, &c, &fed, "?sendEmail=true").await.status(), 200);
    assert_eq!(sim.reset_count(&fed), 1);

    sim.forbid_resets();
    let r = reset(&sim, &c, &lee, "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "E0000006");
    assert_eq!(sim.reset_calls().len(), 3);
    assert_eq!(sim.stats().calls.users_post, 8);
}

#[tokio::test]
async fn rate_limit_window() {
    let config = OktaSimConfig {
        window: Duration::from_secs(2),
        limits: BucketLimits::uniform(5),
        ..OktaSimConfig::default()
    };
    let (sim, c) = start(SimOrg::demo(), config).await;
    for expected_remaining in (0..5).rev() {
        let r = get(&sim, &c, "/api/v1/groups").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(hdr_u64(&r, "x-rate-limit-limit"), 5);
        assert_eq!(hdr_u64(&r, "x-rate-limit-remaining"), expected_remaining);
    }
    let r = get(&sim, &c, "/api/v1/groups").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(hdr_u64(&r, "x-rate-limit-limit"), 5);
    assert_eq!(hdr_u64(&r, "x-rate-limit-remaining"), 0);
    let reset_at = hdr_u64(&r, "x-rate-limit-reset");
    assert!(reset_at >= now_epoch() && reset_at <= now_epoch() + 3);
    assert_eq!(error_code(r).await, "E0000047");

    // Other buckets are separate, each family with its own window (issue 12): a user by login,
    // a group by id, a user search and the admin-role list each spend only their own.
    let contractors = sim.group_ids_named("contractors").remove(0);
    for path in [
        "/api/v1/users/alice%40example.com".to_string(),
        format!("/api/v1/groups/{contractors}"),
        "/api/v1/users?search=status%20eq%20%22ACTIVE%22".to_string(),
        "/api/v1/iam/assignees/users".to_string(),
    ] {
        let r = get(&sim, &c, &path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(hdr_u64(&r, "x-rate-limit-remaining"), 4, "{path}");
    }

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = get(&sim, &c, "/api/v1/groups").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(hdr_u64(&r, "x-rate-limit-remaining"), 4);
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.rate_limited_by_bucket.groups, 1);
    assert_eq!(stats.calls.groups, 7);

    // Budget spent by another client.
    sim.consume_budget(Bucket::UsersPost, 5);
    let lee = sim
        .user_id_by_login("c01.lee@contractors.example.com")
        .unwrap();
    let r = reset(&sim, &c, &lee, "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sim.reset_count(&lee), 0);
}

#[tokio::test]
async fn concurrency_limit_answers_429_with_limit_zero() {
    let config = OktaSimConfig {
        concurrency_limit: 2,
        latency: Duration::from_millis(600),
        ..OktaSimConfig::default()
    };
    let (sim, c) = start(SimOrg::demo(), config).await;
    let calls = (0..6).map(|_| get(&sim, &c, "/api/v1/groups"));
    let responses = futures::future::join_all(calls).await;
    let mut ok = 0;
    let mut limited = 0;
    for r in &responses {
        match r.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                assert_eq!(hdr(r, "x-rate-limit-limit"), "0");
                assert_eq!(hdr(r, "x-rate-limit-remaining"), "0");
                assert!(hdr_u64(r, "x-rate-limit-reset") > now_epoch());
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, limited), (2, 4));
    let stats = sim.stats();
    assert_eq!(stats.concurrency_limited, 4);
    assert!(stats.peak_concurrency >= 3);
    // Concurrency refusals do not spend the bucket.
    let r = get(&sim, &c, "/api/v1/groups").await;
    assert_eq!(hdr_u64(&r, "x-rate-limit-remaining"), 497);
}

#[tokio::test]
async fn injected_failures() {
    let (sim, c) = demo().await;
    let lee = sim
        .user_id_by_login("c01.lee@contractors.example.com")
        .unwrap();
    sim.fail_next_resets(2, 503);
    for _ in 0..2 {
        let r = reset(&sim, &c, &lee, "?sendEmail=true").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(error_code(r).await, "E0000009");
    }
    assert_eq!(sim.user_status(&lee).as_deref(), Some("ACTIVE"));
    assert_eq!(sim.reset_count(&lee), 0);
    assert_eq!(reset(&sim, &c, &lee, "?sendEmail=true").await.status(), 200);
    assert_eq!(sim.reset_count(&lee), 1);

    sim.set_error_rate_5xx(1.0);
    let r = get(&sim, &c, "/api/v1/groups").await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(hdr(&r, "x-rate-limit-limit"), "500");
    assert_eq!(error_code(r).await, "E0000009");
    let r = reset(&sim, &c, &lee, "?sendEmail=true").await;
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(sim.reset_count(&lee), 1);

    sim.set_error_rate_5xx(0.5);
    let mut statuses = HashMap::new();
    for _ in 0..60 {
        let r = get(&sim, &c, "/api/v1/groups").await;
        *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
    }
    assert_eq!(
        statuses.keys().copied().collect::<HashSet<_>>(),
        HashSet::from([200, 500])
    );
    assert!(statuses[&500] > 10 && statuses[&200] > 10, "{statuses:?}");

    sim.set_error_rate_5xx(0.0);
    assert_eq!(get(&sim, &c, "/api/v1/groups").await.status(), 200);
    assert_eq!(sim.stats().server_errors, 4 + statuses[&500]);
}

#[tokio::test]
async fn admin_assignees_paginate() {
    let (sim, c) = demo().await;
    let r = get(&sim, &c, "/api/v1/iam/assignees/users?limit=3").await;
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.unwrap();
    let mut got = ids(&page["value"]);
    assert_eq!(got.len(), 3);
    assert!(page["value"][0]["orn"].as_str().unwrap().ends_with(&got[0]));
    let next = page["_links"]["next"]["href"].as_str().unwrap().to_string();
    let page: Value = c
        .get(&next)
        .header(header::AUTHORIZATION, "SSWS sim-okta-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    got.extend(ids(&page["value"]));
    assert!(page["_links"].get("next").is_none());
    let mut expected: Vec<String> = ["alice", "bob", "carol", "mallory"]
        .iter()
        .map(|n| sim.user_id_by_login(&format!("{n}@example.com")).unwrap())
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_users_roles_include_those_held_through_a_group_which_assignees_do_not_list() {
    let lee = SimUser::new("lee@example.com", "Lee", "L");
    let boss = SimUser::new("boss@example.com", "Boss", "B").role("ORG_ADMIN");
    let admins = SimGroup::new("admins").role("SUPER_ADMIN").member(&lee.id);
    let (lee_id, boss_id, group_id) = (lee.id.clone(), boss.id.clone(), admins.id.clone());
    let org = SimOrg::new().user(lee).user(boss).group(admins);
    let (sim, c) = start(org, OktaSimConfig::default()).await;

    let roles: Value = get(&sim, &c, &format!("/api/v1/users/{lee_id}/roles"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roles[0]["type"], "SUPER_ADMIN");
    assert_eq!(roles[0]["assignmentType"], "GROUP");
    let assignee = roles[0]["_links"]["assignee"]["href"].as_str().unwrap();
    assert!(assignee.ends_with(&format!("/api/v1/groups/{group_id}")));
    let roles: Value = get(&sim, &c, &format!("/api/v1/users/{boss_id}/roles"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roles[0]["assignmentType"], "USER");
    let page: Value = get(&sim, &c, "/api/v1/iam/assignees/users")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&page["value"]), vec![boss_id.clone()]);

    // Granted later, directly: both lists show it.
    let other = sim.user_id_by_login("lee@example.com").unwrap();
    assert!(sim.assign_user_role(&other, "HELP_DESK_ADMIN"));
    let roles: Value = get(&sim, &c, &format!("/api/v1/users/{lee_id}/roles"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(roles.as_array().unwrap().len(), 2);

    let r = get(&sim, &c, "/api/v1/users/00unobody/roles").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get(
        &sim,
        &c,
        &format!("/api/v1/users/{lee_id}/roles?expand=everything"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    sim.forbid_role_reads(true);
    for path in [
        format!("/api/v1/users/{lee_id}/roles"),
        "/api/v1/iam/assignees/users".into(),
    ] {
        let r = get(&sim, &c, &path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "E0000006");
    }
}

#[tokio::test]
async fn a_reset_turns_a_federated_user_into_an_okta_password_user() {
    let fed = SimUser::new("fed@example.com", "Fed", "F").provider("FEDERATION");
    let id = fed.id.clone();
    let (sim, c) = start(SimOrg::new().user(fed), OktaSimConfig::default()).await;
    assert_eq!(reset(&sim, &c, &id, "?sendEmail=true").await.status(), 200);
    assert_eq!(sim.user_provider(&id).as_deref(), Some("OKTA"));
}

#[test]
fn demo_org_has_the_advertised_mix() {
    let org = SimOrg::demo();
    let contractors = org.groups_named("contractors");
    assert_eq!(contractors.len(), 1);
    let members: Vec<&SimUser> = contractors[0]
        .members
        .iter()
        .map(|id| org.users.iter().find(|u| &u.id == id).unwrap())
        .collect();
    assert_eq!(members.len(), 40);
    let count = |f: &dyn Fn(&SimUser) -> bool| members.iter().filter(|u| f(u)).count();
    assert_eq!(count(&|u| u.provider == "ACTIVE_DIRECTORY"), 3);
    assert_eq!(count(&|u| u.provider == "LDAP"), 1);
    assert_eq!(count(&|u| u.provider == "FEDERATION"), 2);
    assert_eq!(count(&|u| u.provider == "SOCIAL"), 1);
    assert_eq!(count(&|u| u.provider == "IMPORT"), 2);
    assert_eq!(count(&|u| u.status == "SUSPENDED"), 2);
    assert_eq!(count(&|u| u.status == "STAGED"), 1);
    assert_eq!(count(&|u| u.status == "PROVISIONED"), 1);
    assert_eq!(count(&|u| u.status == "DEPROVISIONED"), 1);
    assert_eq!(count(&|u| u.status == "PASSWORD_EXPIRED"), 2);
    assert_eq!(count(&|u| u.status == "LOCKED_OUT"), 1);
    assert_eq!(count(&|u| u.status == "RECOVERY"), 1);
    assert_eq!(count(&|u| u.provider == "OKTA" && u.status == "ACTIVE"), 22);
    assert_eq!(
        count(&|u| matches!(u.provider.as_str(), "OKTA" | "IMPORT") && u.can_reset()),
        28
    );
    assert!(members
        .iter()
        .filter(|u| !matches!(
            u.status.as_str(),
            "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "RECOVERY"
        ))
        .all(|u| u.provider == "OKTA"));
    assert_eq!(count(&|u| u.first_name == "<!channel>"), 1);
    assert_eq!(
        count(&|u| u.last_name.contains('&') && u.last_name.contains("<@U0002>")),
        1
    );
    assert_eq!(members[0].login, "c01.lee@contractors.example.com");
    assert!(members
        .iter()
        .all(|u| u.login.ends_with("@contractors.example.com") && u.roles.is_empty()));

    let admins = org.groups_named("it-admins");
    assert_eq!(admins[0].members.len(), 4);
    for name in ["alice", "bob", "carol", "mallory"] {
        let u = org
            .find_user_by_login(&format!("{name}@example.com"))
            .unwrap();
        assert_eq!(u.email, u.login);
        assert!(u.roles == ["SUPER_ADMIN"] && u.status == "ACTIVE" && u.provider == "OKTA");
        assert!(admins[0].members.contains(&u.id));
    }
    let eng = org.groups_named("ENGINEERING");
    assert_eq!(eng.len(), 2);
    assert_ne!(eng[0].id, eng[1].id);
    assert_eq!(org.groups_named("Sales & <Marketing>")[0].members.len(), 3);

    // Deterministic and unique ids.
    assert_eq!(SimOrg::demo(), org);
    let ids: HashSet<&str> = org.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), org.users.len());
    assert!(org
        .users
        .iter()
        .all(|u| u.id.len() == 20 && u.id.starts_with("00u")));
}

#[tokio::test]
async fn large_generated_group_and_shutdown() {
    let org = SimOrg::demo().with_generated_group("bench", 100_000);
    let group = org.groups_named("bench")[0].id.clone();
    let unique: HashSet<&str> = org.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(unique.len(), 47 + 100_000);
    let (sim, c) = start(org, OktaSimConfig::default()).await;
    let r = get(&sim, &c, &format!("/api/v1/groups/{group}/users?limit=200")).await;
    assert!(link(&r, "next").is_some());
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 200);

    let base = sim.base_url();
    sim.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let fresh = Client::new();
    assert!(fresh
        .get(format!("{base}/api/v1/groups"))
        .send()
        .await
        .is_err());
}

/// `verifyFactor` as Okta answers it: a push needs a User-Agent, the body must be the
/// request's JSON, and credentials whose admin holds no role are refused like everywhere else.
#[tokio::test]
async fn a_push_without_user_agent_or_with_a_bad_body_or_without_a_role_is_refused() {
    let (sim, c) = demo().await;
    sim.oidc().enroll_push("bob@example.com");
    let user = sim.user_id_by_login("bob@example.com").unwrap();
    let factors: Vec<serde_json::Value> = get(&sim, &c, &format!("/api/v1/users/{user}/factors"))
        .await
        .json()
        .await
        .unwrap();
    let push = factors.iter().find(|f| f["factorType"] == "push").unwrap();
    let url = format!(
        "{}/api/v1/users/{user}/factors/{}/verify",
        sim.base_url(),
        push["id"].as_str().unwrap()
    );
    let verify = |ua: Option<&'static str>, body: &'static str| {
        let mut r = c
            .post(&url)
            .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(ua) = ua {
            r = r.header(header::USER_AGENT, ua);
        }
        r.send()
    };
    let r = verify(None, r#"{"useNumberMatchingChallenge":true}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = verify(Some("okta-reset/test"), "{not json").await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = verify(
        Some("okta-reset/test"),
        r#"{"useNumberMatchingChallenge":"yes"}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(sim.oidc().pushes().is_empty(), "no refused call pushed");
    let r = verify(
        Some("okta-reset/test"),
        r#"{"useNumberMatchingChallenge":true}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    sim.remove_admin_role();
    let r = verify(
        Some("okta-reset/test"),
        r#"{"useNumberMatchingChallenge":true}"#,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(sim.oidc().pushes().len(), 1);
}
