//! The HTTP edge: signatures, timestamps, size caps, health.

use okta_reset::sim::world::SIGNING_SECRET;

use crate::helpers::*;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_changes_nothing() {
    let app = spawn().await;
    let body = app
        .w
        .driver
        .slash_body(REQUESTER, "C0001", r#"group:contractors reason:"x""#);
    let ts = now().to_string();
    let forged = okta_reset::slack::verify::sign("not-the-secret", &ts, &body);
    let r = app
        .w
        .driver
        .post_raw(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            vec![
                ("X-Slack-Request-Timestamp".into(), ts),
                ("X-Slack-Signature".into(), forged),
            ],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body, "refused: the signature does not match");
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn an_unsigned_request_is_refused() {
    let app = spawn().await;
    let body = app.w.driver.slash_body(REQUESTER, "C0001", "help");
    let r = app
        .w
        .driver
        .post_raw(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            vec![],
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_stale_timestamp_is_refused_even_with_a_valid_signature() {
    let app = spawn().await;
    let body = app
        .w
        .driver
        .slash_body(REQUESTER, "C0001", r#"group:contractors reason:"x""#);
    let r = app
        .w
        .driver
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            now() - 301,
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("more than 5 minutes"), "{}", r.body);
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_before_it_is_verified() {
    let app = spawn().await;
    let mut body = app.w.driver.slash_body(REQUESTER, "C0001", "help");
    body.extend(std::iter::repeat_n(b'a', 70 * 1024));
    let r = app
        .w
        .driver
        .post_signed(
            "/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            now(),
        )
        .await;
    assert_eq!(r.status, 413);
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn the_slack_documented_vector_verifies_through_the_public_function() {
    // The same check the middleware uses, at the documented time.
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    assert!(okta_reset::slack::verify::verify(
        "8f742231b10e8888abcd99yyyzzz85a5",
        Some("1531420618"),
        Some("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"),
        body.as_bytes(),
        1531420618
    )
    .is_ok());
    let _ = SIGNING_SECRET;
}

#[tokio::test]
async fn url_verification_echoes_the_challenge() {
    let app = spawn().await;
    let body = br#"{"type":"url_verification","token":"x","challenge":"c-123"}"#.to_vec();
    let r = app
        .w
        .driver
        .post_signed("/slack/events", "application/json", body, now())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json.unwrap()["challenge"], "c-123");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn().await;
    let base = app.w.app.base_url();
    let h = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(h.status(), 200);
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ready");
}
