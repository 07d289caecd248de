//! The simulated System Log over real HTTP: what Okta refuses, lag, and `Link` paging.

use std::time::Duration;

use reqwest::{header, Client, StatusCode};
use serde_json::Value;

use super::system_log::RESET_EVENT;
use super::*;

async fn demo() -> (OktaSim, Client, Vec<String>) {
    let sim = OktaSim::start(SimOrg::demo(), OktaSimConfig::default())
        .await
        .unwrap();
    let ids: Vec<String> = SimOrg::demo()
        .users
        .iter()
        .take(3)
        .map(|u| u.id.clone())
        .collect();
    (sim, Client::new(), ids)
}

async fn logs(sim: &OktaSim, c: &Client, q: &[(&str, &str)]) -> reqwest::Response {
    c.get(format!("{}/api/v1/logs", sim.base_url()))
        .query(q)
        .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
        .send()
        .await
        .unwrap()
}

async fn reset(sim: &OktaSim, c: &Client, id: &str) {
    let r = c
        .post(format!(
            "{}/api/v1/users/{id}/lifecycle/reset_password?sendEmail=true&revokeSessions=true",
            sim.base_url()
        ))
        .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()))
        .header(header::CONTENT_LENGTH, "0")
        .header(header::USER_AGENT, "okta-reset/test (request R-TEST0001)")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

fn window() -> (String, String) {
    let now = crate::clock::SystemClock.now_ms();
    (
        crate::clock::format_rfc3339(now - 60_000),
        crate::clock::format_rfc3339(now + 60_000),
    )
}

use crate::clock::Clock;

#[tokio::test]
async fn resets_and_session_clears_are_logged_with_the_caller_and_filtered_by_event_type() {
    let (sim, c, ids) = demo().await;
    reset(&sim, &c, &ids[0]).await;
    let (since, until) = window();
    let filter = format!("eventType eq \"{RESET_EVENT}\"");
    let r = logs(
        &sim,
        &c,
        &[("since", &since), ("until", &until), ("filter", &filter)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get(header::LINK).is_none(),
        "a bounded read that is done has no next"
    );
    let body: Vec<Value> = r.json().await.unwrap();
    assert_eq!(body.len(), 1);
    assert_eq!(body[0]["eventType"], RESET_EVENT);
    assert_eq!(body[0]["target"][0]["id"], ids[0].as_str());
    assert_eq!(
        body[0]["client"]["userAgent"]["rawUserAgent"],
        "okta-reset/test (request R-TEST0001)"
    );
    let all: Vec<Value> = logs(&sim, &c, &[("since", &since), ("until", &until)])
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = all
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec![RESET_EVENT, "user.session.clear"]);
}

#[tokio::test]
async fn bounded_reads_page_with_link_until_done_and_polling_reads_always_have_a_next_link() {
    let (sim, c, ids) = demo().await;
    for id in &ids {
        reset(&sim, &c, id).await;
    }
    let (since, until) = window();
    let filter = format!("eventType eq \"{RESET_EVENT}\"");
    let mut seen = Vec::new();
    let mut next = Some(format!("{}/api/v1/logs", sim.base_url()));
    let mut first = true;
    while let Some(url) = next {
        let req = c
            .get(&url)
            .header(header::AUTHORIZATION, format!("SSWS {}", sim.api_token()));
        let req = if first {
            req.query(&[
                ("since", since.as_str()),
                ("until", until.as_str()),
                ("filter", filter.as_str()),
                ("limit", "2"),
            ])
        } else {
            req
        };
        first = false;
        let r = req.send().await.unwrap();
        next = crate::okta::client::next_link(r.headers());
        let page: Vec<Value> = r.json().await.unwrap();
        seen.extend(
            page.into_iter()
                .map(|e| e["target"][0]["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(seen, ids, "every event once, in order");
    let polling = logs(&sim, &c, &[("since", &since)]).await;
    assert!(crate::okta::client::next_link(polling.headers()).is_some());
}

#[tokio::test]
async fn lagging_events_show_only_once_the_log_catches_up() {
    let (sim, c, ids) = demo().await;
    sim.set_log_lag(Duration::from_secs(3600));
    reset(&sim, &c, &ids[0]).await;
    let (since, until) = window();
    let q = [("since", since.as_str()), ("until", until.as_str())];
    let body: Vec<Value> = logs(&sim, &c, &q).await.json().await.unwrap();
    assert!(body.is_empty(), "not in the log yet");
    sim.catch_up_log();
    let body: Vec<Value> = logs(&sim, &c, &q).await.json().await.unwrap();
    assert_eq!(body.len(), 2);
}

#[tokio::test]
async fn what_okta_refuses_the_sim_refuses() {
    let (sim, c, _) = demo().await;
    let (since, until) = window();
    for (q, code, summary) in [
        (
            vec![("since", "yesterday")],
            "E0000001",
            "Api validation failed: since",
        ),
        (
            vec![("until", "2026-13-01T00:00:00Z")],
            "E0000001",
            "Api validation failed: until",
        ),
        (
            vec![("since", until.as_str()), ("until", since.as_str())],
            "E0000001",
            "Api validation failed: since",
        ),
        (
            vec![("limit", "1001")],
            "E0000001",
            "Api validation failed: limit",
        ),
        (
            vec![("limit", "-1")],
            "E0000001",
            "Api validation failed: limit",
        ),
        (
            vec![("sortOrder", "UP")],
            "E0000001",
            "Api validation failed: sortOrder",
        ),
        (
            vec![("filter", "eventType sw \"user\"")],
            "E0000031",
            "Invalid search criteria.",
        ),
        (
            vec![("filter", "eventType eq user.account.reset_password")],
            "E0000031",
            "Invalid search criteria.",
        ),
    ] {
        let r = logs(&sim, &c, &q).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errorCode"], code, "{q:?}");
        assert_eq!(body["errorSummary"], summary, "{q:?}");
    }
    sim.forbid_log_reads();
    let r = logs(&sim, &c, &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errorCode"], "E0000006");
}
