//! Secrets never leak: the whole flow (request, approval, run, summary, status, a forged and a
//! replayed request) with every log at TRACE captured, then the log, the store's files and every
//! Slack message are searched for the secrets, the tokens and raw request bodies.
//!
//! Its own test binary: the log capture is the process-wide tracing subscriber, which must not
//! be shared with other tests.

#[path = "api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use helpers::*;
use okta_reset::secret::ExposeSecret;
use okta_reset::sim::world::{CHANNEL, SIGNING_SECRET};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every byte of the SQLite store (database, WAL and shared-memory files): text is stored as is,
/// so a secret in any row of any table, even a deleted one, shows up here.
fn store_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_token_or_raw_body_reaches_the_log_the_store_or_slack() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let app = spawn().await;
    let p = app
        .request(r#"group:contractors reason:"INC-9 leak-drill""#)
        .await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    app.slash(REQUESTER, &format!("status {}", p.id)).await;

    // A raw body we send ourselves, with a marker that only the body carries; then its replay
    // and a forgery (wrong signature).
    let d = &app.w.driver;
    let body = d.slash_body(REQUESTER, CHANNEL, "help RAW-BODY-MARKER-7f3a");
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ct = "application/x-www-form-urlencoded";
    assert_eq!(
        d.post_signed("/slack/commands", ct, body.clone(), ts)
            .await
            .status,
        200
    );
    assert_eq!(
        d.post_signed("/slack/commands", ct, body.clone(), ts)
            .await
            .status,
        401
    );
    let forged = d
        .post_raw(
            "/slack/commands",
            ct,
            body.clone(),
            vec![
                ("X-Slack-Request-Timestamp".into(), ts.to_string()),
                (
                    "X-Slack-Signature".into(),
                    format!("v0={}", "ab".repeat(32)),
                ),
            ],
        )
        .await;
    assert_eq!(forged.status, 401);
    let signature = okta_reset::slack::verify::sign(SIGNING_SECRET, &ts.to_string(), &body);
    app.settle().await;

    let secrets = [
        ("the signing secret", SIGNING_SECRET.to_string()),
        (
            "the bot token",
            app.w.secrets.slack_bot_token.expose_secret().to_string(),
        ),
        (
            "the Okta API token",
            app.w.secrets.okta_api_token.expose_secret().to_string(),
        ),
        ("a request signature", signature),
        ("a raw request body", String::from_utf8(body).unwrap()),
        ("a body-only marker", "RAW-BODY-MARKER".to_string()),
        (
            "Slack's verification token",
            "sim-verification-token".to_string(),
        ),
    ];
    let logged = log.0.lock().unwrap().clone();
    // The capture really is at TRACE and saw the flow, so its silence means something.
    assert!(contains(&logged, "TRACE"), "nothing logged at TRACE");
    assert!(
        contains(&logged, "chat.postMessage"),
        "Slack calls not logged"
    );
    assert!(
        contains(&logged, "refused a replayed request"),
        "the replay not logged"
    );
    let stored = store_bytes(app.w.store_dir.path());
    assert!(contains(&stored, &p.id), "the store was not read");
    let mut said = String::new();
    for m in app.w.slack.messages() {
        said.push_str(&format!("{}\n{}\n", m.text, m.blocks));
        for (t, b) in &m.edits {
            said.push_str(&format!("{t}\n{b}\n"));
        }
    }
    for e in app.w.slack.ephemerals() {
        said.push_str(&format!("{}\n{}\n", e.text, e.blocks));
    }
    for (what, s) in &secrets {
        assert!(!s.is_empty());
        assert!(!contains(&logged, s), "{what} is in the log");
        assert!(!contains(&stored, s), "{what} is in the store");
        assert!(!said.contains(s.as_str()), "{what} is in a Slack message");
    }
}
