//! The logs of a whole request at info level, as JSON: each line parses, carries its request id
//! or run id, and holds no secret, no email and no raw body.
//!
//! A test binary of its own: tracing caches per call site whether anyone listens, so tests on
//! other threads of the same process (without this thread's subscriber) would hide spans.

#[allow(dead_code, unused_imports)]
#[path = "api/helpers.rs"]
mod helpers;

use std::io::Write;
use std::sync::{Arc, Mutex};

use helpers::*;
use okta_reset::secret::ExposeSecret;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// current_thread runtime (tokio::test's default): every task of the bot runs on this thread, so
// the thread's default subscriber sees all of them.
#[tokio::test]
async fn a_whole_request_logs_json_with_ids_and_no_secret_email_or_body() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn().await;
    let p = app
        .request(r#"group:contractors reason:"INC-7 secret-body-marker""#)
        .await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    app.settle().await;

    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    for forbidden in [
        app.w.secrets.slack_bot_token.expose_secret(),
        app.w.secrets.okta_api_token.expose_secret(),
        app.w.secrets.slack_signing_secret.expose_secret(),
        "@contractors.example.com",
        "@example.com",
        "secret-body-marker",
    ] {
        assert!(!text.contains(forbidden), "{forbidden:?} logged:\n{text}");
    }
    // Inbound requests carry a request id; the run's lines carry the request R-… id.
    let in_span = |name: &str, key: &str| {
        lines.iter().any(|l| {
            l["spans"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["name"] == name && s[key].is_string()))
        })
    };
    assert!(in_span("http", "rid"), "{text}");
    let run_lines: Vec<_> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "run")
        .collect();
    assert!(!run_lines.is_empty(), "{text}");
    assert!(run_lines
        .iter()
        .all(|l| l["span"]["request"] == p.id.as_str()));
}
