//! The driver against a stand-in bot that records what it receives.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use serde_json::{json, Value};
use slack_morphism::prelude::*;

use super::*;

/// What a stand-in for the bot received.
#[derive(Clone, Debug)]
struct Captured {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A stand-in bot that records every request and answers 200 `{"ok":true}`.
async fn capture_server() -> (String, Arc<Mutex<Vec<Captured>>>) {
    let seen: Arc<Mutex<Vec<Captured>>> = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let seen = s2.clone();
        async move {
            seen.lock().unwrap().push(Captured {
                path: uri.path().to_string(),
                headers,
                body,
            });
            axum::Json(json!({"ok": true}))
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, seen)
}

fn verify_captured(c: &Captured, secret: &str) -> Result<(), crate::slack::verify::VerifyError> {
    let h = |n: &str| c.headers.get(n).and_then(|v| v.to_str().ok());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    crate::slack::verify::verify(
        secret,
        h("x-slack-request-timestamp"),
        h("x-slack-signature"),
        &c.body,
        now,
    )
}

#[tokio::test]
async fn driver_slash_is_signed_escaped_ordered_and_parses_as_a_command() {
    let sim = sim().await;
    let (bot, seen) = capture_server().await;
    let driver = SlackDriver::new(&bot, "s3cret", "T0001").with_sim(&sim);
    let r = driver
        .slash("U0001", "C100", "group <!channel> & \"Sales\"")
        .await;
    assert_eq!((r.status, r.json), (200, Some(json!({"ok": true}))));

    let c = seen.lock().unwrap()[0].clone();
    assert_eq!(c.path, "/slack/commands");
    assert_eq!(
        c.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(verify_captured(&c, "s3cret"), Ok(()));
    assert_eq!(
        verify_captured(&c, "other"),
        Err(crate::slack::verify::VerifyError::BadSignature)
    );

    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&c.body).unwrap();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "token",
            "team_id",
            "team_domain",
            "channel_id",
            "channel_name",
            "user_id",
            "user_name",
            "command",
            "text",
            "api_app_id",
            "is_enterprise_install",
            "response_url",
            "trigger_id"
        ]
    );
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).unwrap().1.clone();
    assert_eq!(get("text"), "group &lt;!channel&gt; &amp; \"Sales\"");
    assert_eq!(get("user_name"), "alice");
    assert_eq!(get("command"), "/okta-reset");
    assert_eq!(get("api_app_id"), "A0001");
    let response_url = get("response_url");
    assert!(
        response_url.starts_with(&format!(
            "{}/hooks/commands/T0001/C100/U0001/",
            sim.base_url()
        )),
        "{response_url}"
    );

    // slack-morphism reads it as a command event.
    let ev: SlackCommandEvent = serde_urlencoded::from_bytes(&c.body).unwrap();
    assert_eq!(
        (ev.user_id.0, ev.channel_id.0),
        ("U0001".into(), "C100".into())
    );

    // The bot answers on response_url: lands as an ephemeral for the user; in_channel posts.
    let http = reqwest::Client::new();
    let r = http
        .post(&response_url)
        .json(&json!({"text": "Usage: …"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    http.post(&response_url)
        .json(&json!({"response_type": "in_channel", "text": "Request posted"}))
        .send()
        .await
        .unwrap();
    let eph = sim.ephemerals();
    assert_eq!(eph.len(), 1);
    assert_eq!(
        (eph[0].user.as_str(), eph[0].text.as_str()),
        ("U0001", "Usage: …")
    );
    assert!(eph[0].via_response_url);
    assert_eq!(sim.messages()[0].text, "Request posted");
    assert_eq!(sim.hook_posts().len(), 2);
    assert_eq!(sim.api_calls("response_url"), 2);
}

#[tokio::test]
async fn driver_click_sends_block_actions_slack_morphism_parses() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let root = client
        .open_session(&token(sim.bot_token()))
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C100".into(),
            SlackMessageContent::new()
                .with_text("approve?".into())
                .with_blocks(decision_blocks()),
        ))
        .await
        .unwrap();
    let (bot, seen) = capture_server().await;
    let driver = SlackDriver::new(&bot, "s3cret", "T0001").with_sim(&sim);
    let r = driver
        .click("U0002", "C100", &root.ts.0, "approve", "job-1")
        .await;
    assert_eq!(r.status, 200);

    let c = seen.lock().unwrap()[0].clone();
    assert_eq!(c.path, "/slack/interactions");
    assert_eq!(verify_captured(&c, "s3cret"), Ok(()));
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&c.body).unwrap();
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].0, "payload");
    let raw: Value = serde_json::from_str(&form[0].1).unwrap();
    assert_eq!(raw["actions"][0]["text"]["text"], "Approve");
    assert_eq!(raw["actions"][0]["block_id"], "decision");
    assert_eq!(raw["enterprise"], Value::Null);
    let ev: SlackInteractionEvent = serde_json::from_str(&form[0].1).unwrap();
    let SlackInteractionEvent::BlockActions(ba) = ev else {
        panic!("not block_actions")
    };
    assert_eq!(ba.user.unwrap().id.0, "U0002");
    assert_eq!(ba.team.id.0, "T0001");
    let SlackInteractionActionContainer::Message(m) = ba.container else {
        panic!("not a message container")
    };
    assert_eq!(m.message_ts, root.ts);
    assert_eq!(m.channel_id.unwrap().0, "C100");
    let action = &ba.actions.unwrap()[0];
    assert_eq!(
        (action.action_id.0.as_str(), action.value.as_deref()),
        ("approve", Some("job-1"))
    );

    // replace_original on the click's response_url edits the clicked message.
    let hook = ba.response_url.unwrap().0.to_string();
    reqwest::Client::new()
        .post(&hook)
        .json(&json!({"replace_original": true, "text": "Approved by bob"}))
        .send()
        .await
        .unwrap();
    let msg = &sim.thread("C100", &root.ts.0)[0];
    assert_eq!(msg.text, "Approved by bob");
    assert_eq!(msg.edits.len(), 1);
}

#[tokio::test]
async fn driver_post_signed_uses_the_given_timestamp_and_post_raw_does_not_sign() {
    let (bot, seen) = capture_server().await;
    let driver = SlackDriver::new(&bot, "s3cret", "T0001");
    driver
        .post_signed("/slack/events", "application/json", b"{}".to_vec(), 1_000)
        .await;
    driver
        .post_raw(
            "/slack/events",
            "application/json",
            b"{}".to_vec(),
            vec![("X-Slack-Signature".into(), "v0=00".into())],
        )
        .await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].headers["x-slack-request-timestamp"], "1000");
    assert_eq!(
        seen[0].headers["x-slack-signature"],
        crate::slack::verify::sign("s3cret", "1000", b"{}").as_str()
    );
    assert_eq!(
        verify_captured(&seen[0], "s3cret"),
        Err(crate::slack::verify::VerifyError::Stale)
    );
    assert!(seen[1].headers.get("x-slack-request-timestamp").is_none());
    assert_eq!(seen[1].headers["x-slack-signature"], "v0=00");

    // Nothing listening: status 0 and the error in the body, not a panic.
    let dead = SlackDriver::new("http://127.0.0.1:1", "s", "T0001");
    let r = dead.slash("U0001", "C1", "x").await;
    assert_eq!(r.status, 0);
    assert!(r.body.starts_with("request failed"), "{}", r.body);
}
