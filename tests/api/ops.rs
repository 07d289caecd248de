//! What an operator watches: `/metrics` (Prometheus text), `/readyz` following the store and the
//! last Okta contact, `/healthz` for liveness only.

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-1""#;

async fn get(url: String) -> (u16, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, r.text().await.unwrap())
}

/// The value of the sample `line_start` (name and labels) in a Prometheus text body.
fn sample(body: &str, line_start: &str) -> f64 {
    body.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no sample {line_start} in\n{body}"))
}

#[tokio::test]
async fn metrics_count_requests_resets_okta_calls_and_runs() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    let (status, ctype, body) = get(format!("{}/metrics", app.w.app.base_url())).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    // Counters are process-wide and other tests run alongside: at least this test's share.
    assert!(sample(&body, r#"okta_reset_resets_total{outcome="reset"}"#) >= 28.0);
    assert!(
        sample(
            &body,
            r#"okta_reset_slack_requests_total{outcome="ok",route="/slack/commands"}"#
        ) >= 1.0
    );
    assert!(
        sample(
            &body,
            r#"okta_reset_slack_requests_total{outcome="ok",route="/slack/interactions"}"#
        ) >= 1.0
    );
    assert!(sample(&body, r#"okta_reset_okta_calls_total{status="200"}"#) >= 28.0);
    assert!(sample(&body, "okta_reset_run_duration_seconds_count") >= 1.0);
    for name in [
        "okta_reset_runs_in_progress",
        "okta_reset_okta_rate_limited_total",
        "okta_reset_pacer_wait_seconds_total",
    ] {
        assert!(body.contains(&format!("\n{name} ")), "{name} in\n{body}");
    }
    // An unsigned request is counted as such.
    app.w
        .driver
        .post_raw(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            b"x=1".to_vec(),
            vec![],
        )
        .await;
    let (_, _, body) = get(format!("{}/metrics", app.w.app.base_url())).await;
    assert!(
        sample(
            &body,
            r#"okta_reset_slack_requests_total{outcome="unsigned",route="/slack/commands"}"#
        ) >= 1.0
    );
}

#[tokio::test]
async fn metrics_can_have_their_own_address() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_with()
        .config(move |c| c.server.metrics_listen = Some(([127, 0, 0, 1], port).into()))
        .start()
        .await;
    let (status, _, body) = get(format!("http://127.0.0.1:{port}/metrics")).await;
    assert_eq!(status, 200);
    assert!(body.contains("okta_reset_runs_in_progress"), "{body}");
    let (status, _, body) = get(format!("{}/metrics", app.w.app.base_url())).await;
    assert_ne!(status, 200, "not on the main port as well");
    assert!(!body.contains("okta_reset_"), "{body}");
}

#[tokio::test]
async fn readyz_follows_the_last_okta_contact_and_healthz_does_not() {
    let app = spawn().await;
    let base = app.w.app.base_url();
    assert_eq!(get(format!("{base}/readyz")).await.0, 200);
    app.w.okta.revoke_token();
    let ack = app.slash(REQUESTER, ASK).await;
    assert!(ack.starts_with("Looking up the targets"), "{ack}");
    let deadline = std::time::Instant::now() + WAIT;
    let (status, _, body) = loop {
        let r = get(format!("{base}/readyz")).await;
        if r.0 != 200 || std::time::Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(status, 503);
    assert!(
        body.starts_with("okta: the API token was refused (401)"),
        "{body}"
    );
    assert_eq!(get(format!("{base}/healthz")).await.0, 200);
    app.assert_nothing_changed().await;
}
