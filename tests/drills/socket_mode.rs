//! Socket Mode turned off in the app's settings: Slack sends `disconnect` with `link_disabled`.
//! The real binary stops, says why in words and exits non-zero, so its supervisor (systemd,
//! Kubernetes) shows the reason instead of restarting a bot that can hear nothing.

use std::process::{Command, Stdio};
use std::time::Duration;

use okta_reset::sim::world::{config_toml, SIGNING_SECRET};
use okta_reset::slack::socket::LINK_DISABLED;

use crate::harness::sims;

#[tokio::test(flavor = "multi_thread")]
async fn link_disabled_stops_the_binary_with_the_reason_and_a_non_zero_exit() {
    let sims = sims(3, 0).await;
    let store = format!("sqlite://{}/okta-reset.db", sims.dir.path().display());
    let toml = config_toml(
        &sims.slack.api_url(),
        &sims.okta.base_url(),
        &store,
        "127.0.0.1:0",
    )
    .replacen("[slack]\n", "[slack]\nmode = \"socket\"\n", 1);
    let config = sims.dir.path().join("socket.toml");
    std::fs::write(&config, toml).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_okta-reset"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("SLACK_BOT_TOKEN", sims.slack.bot_token())
        .env("SLACK_APP_TOKEN", sims.slack.app_token())
        .env("OKTA_API_TOKEN", sims.okta.api_token())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the okta-reset binary starts");

    let hub = sims.slack.socket();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while hub.open_now() == 0 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the bot exited with {status} before connecting");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot never opened a Socket Mode connection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    hub.disconnect("link_disabled");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap());
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("the bot stops after link_disabled")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a bot that can no longer hear Slack must not exit 0: {stderr}"
    );
    assert!(
        stderr.contains(LINK_DISABLED),
        "the reason, in words, on stderr: {stderr}"
    );
    assert_eq!(
        hub.open_now(),
        0,
        "Slack accepts no new connection and the bot tried none that stayed open"
    );
}
