//! `okta-reset check` against the simulators: every finding in plain words, and the exit code.

use okta_reset::check;
use okta_reset::sim::slack::SlackSimConfig;
use okta_reset::sim::world::{World, WorldOptions};

async fn world(slack: SlackSimConfig) -> World {
    World::start(WorldOptions {
        slack,
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_healthy_set_up_is_safe_to_start() {
    let w = world(SlackSimConfig::demo()).await;
    let r = check::run(&w.config, &w.secrets).await;
    assert!(r.safe_to_start(), "{r}");
    let text = r.to_string();
    for line in [
        "ok   Slack: SLACK_BOT_TOKEN works (auth.test: bot user UBOT)",
        "ok   Slack: the bot is a member of <#C0001>",
        "ok   Store: writable",
        "Safe to start.",
    ] {
        assert!(text.contains(line), "{line} in\n{text}");
    }
    assert!(text.contains("ok   Okta: OKTA_API_TOKEN can read users at http://127.0.0.1:"));
    // The check's write left nothing behind, and nothing was posted or reset.
    assert!(w.slack.messages().is_empty());
    assert!(w.okta.reset_calls().is_empty());
    assert_eq!(
        w.app
            .service
            .store
            .forget_events_before(i64::MAX)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn an_okta_token_whose_admin_lost_the_role_is_named_in_plain_words() {
    let w = world(SlackSimConfig::demo()).await;
    w.okta.remove_admin_role();
    let r = check::run(&w.config, &w.secrets).await;
    assert!(!r.safe_to_start());
    assert_eq!(
        r.problems(),
        vec!["Okta: OKTA_API_TOKEN is valid but not allowed to read users (403 E0000006): the admin who created it lacks the role; give them the Help Desk Administrator role (or a custom admin role with okta.users.read and okta.users.credentials.resetPassword), or create the token as such an admin"]
    );
    assert!(w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn a_revoked_okta_token_is_named() {
    let w = world(SlackSimConfig::demo()).await;
    w.okta.revoke_token();
    let r = check::run(&w.config, &w.secrets).await;
    assert_eq!(
        r.problems(),
        vec!["Okta: OKTA_API_TOKEN was refused (401 E0000011: invalid, expired or revoked): create a new token under Security → API → Tokens, signed in as an admin with the Help Desk Administrator role"]
    );
}

#[tokio::test]
async fn a_channel_without_the_bot_and_a_bad_bot_token_are_named() {
    let mut slack = SlackSimConfig::demo();
    slack.channels_without_bot = vec!["C0002".into()];
    let w = world(slack).await;
    let mut config = w.config.clone();
    config
        .slack
        .channels
        .push(okta_reset::domain::ids::SlackChannelId::parse("C0002").unwrap());
    let r = check::run(&config, &w.secrets).await;
    assert_eq!(
        r.problems(),
        vec!["Slack: the bot is not a member of C0002: invite it there (/invite @okta-reset), or it cannot post approvals in that channel"]
    );
    let mut secrets = w.secrets.clone();
    secrets.slack_bot_token = okta_reset::secret::Secret::from("xoxb-wrong");
    let r = check::run(&w.config, &secrets).await;
    let p = r.problems();
    assert_eq!(p.len(), 1, "{r}");
    assert!(
        p[0].starts_with("Slack: SLACK_BOT_TOKEN was refused ("),
        "{r}"
    );
    assert!(p[0].contains("invalid_auth"), "{r}");
    assert!(
        !r.to_string().contains("xoxb-wrong"),
        "the token is never shown"
    );
}

#[tokio::test]
async fn socket_mode_checks_the_app_token_too() {
    let w = World::start(WorldOptions {
        socket_mode: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let r = check::run(&w.config, &w.secrets).await;
    assert!(
        r.to_string()
            .contains("ok   Slack: SLACK_APP_TOKEN opens Socket Mode connections"),
        "{r}"
    );
    let mut secrets = w.secrets.clone();
    secrets.slack_app_token = Some(okta_reset::secret::Secret::from(w.slack.bot_token()));
    let r = check::run(&w.config, &secrets).await;
    assert_eq!(
        r.problems(),
        vec!["Slack: Slack refused SLACK_APP_TOKEN for Socket Mode (not_allowed_token_type): it must be an app-level token (xapp-…) with the connections:write scope"]
    );
}

/// The real binary: exit 0 when safe, 1 when not, 2 when the config or environment is unusable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exit_code_says_whether_it_is_safe_to_start() {
    let w = world(SlackSimConfig::demo()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("okta-reset.toml");
    let toml = okta_reset::sim::world::config_toml(
        &w.slack.api_url(),
        &w.okta.base_url(),
        &format!("sqlite://{}/check.db", dir.path().display()),
        "127.0.0.1:0",
    );
    std::fs::write(&path, toml).unwrap();
    let run = |okta_token: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_okta-reset"))
            .args(["check", "--config"])
            .arg(&path)
            .env_clear()
            .env("SLACK_SIGNING_SECRET", "s")
            .env("SLACK_BOT_TOKEN", w.slack.bot_token())
            .env("OKTA_API_TOKEN", okta_token)
            .output()
            .unwrap()
    };
    let ok = tokio::task::block_in_place(|| run(w.okta.api_token()));
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let bad = tokio::task::block_in_place(|| run("not-the-token"));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("FAIL Okta: OKTA_API_TOKEN was refused"));
    let unusable = tokio::task::block_in_place(|| run(""));
    assert_eq!(unusable.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unusable.stdout).contains("OKTA_API_TOKEN is not set"));
}

#[tokio::test]
async fn each_allowlisted_user_group_is_read_and_an_unknown_one_is_named() {
    let mut slack = SlackSimConfig::demo();
    slack
        .usergroups
        .push(("S0ADMINS".into(), vec!["U0002".into(), "U0003".into()]));
    let w = World::start(WorldOptions {
        slack,
        tweak: Box::new(|c| {
            let g = |s: &str| okta_reset::domain::ids::SlackUserGroupId::parse(s).unwrap();
            c.policy.approvers.groups.insert(g("S0ADMINS"));
            c.policy.requesters.groups.insert(g("S0GONE"));
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let r = check::run(&w.config, &w.secrets).await;
    let text = r.to_string();
    assert!(
        text.contains("ok   Slack: user group S0ADMINS (policy.approvers) has 2 member(s)"),
        "{text}"
    );
    assert_eq!(
        r.problems(),
        vec!["Slack: user group S0GONE in policy.requesters does not exist (no_such_subteam): copy the group's ID (S…) from its profile in Slack"]
    );
}

#[tokio::test]
async fn a_token_endpoint_refusal_says_what_it_means_not_to_add_a_scope() {
    use crate::okta_engine::{oauth, with_apps, CLIENT_ID};
    use okta_reset::sim::okta::test_keys;
    use okta_reset::sim::okta::SimOAuthApp;
    // The key the bot signs with is not the one registered on the app: invalid_client.
    let w = World::start(WorldOptions {
        okta: with_apps(vec![SimOAuthApp::rsa(CLIENT_ID)]),
        tweak: Box::new(oauth),
        env: vec![(
            "OKTA_PRIVATE_KEY".into(),
            test_keys::unregistered_rsa_private().into(),
        )],
        ..Default::default()
    })
    .await
    .unwrap();
    let r = check::run(&w.config, &w.secrets).await;
    assert!(!r.safe_to_start());
    let problems = r.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = problems[0];
    assert!(
        p.starts_with("Okta: the token endpoint refused the OAuth service app (invalid_client: The client_assertion signature is invalid.): Okta did not accept the service app's credentials."),
        "{p}"
    );
    for needle in ["okta.oauth.client_id", "public key", "KID", "clock"] {
        assert!(p.contains(needle), "{needle}: {p}");
    }
    assert!(!p.contains("okta.roles.read"), "{p}");
    assert!(w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn check_says_whether_the_bot_may_read_the_system_log() {
    let w = world(SlackSimConfig::demo()).await;
    let text = check::run(&w.config, &w.secrets).await.to_string();
    assert!(
        text.contains("ok   Okta: the bot may read the System Log (okta.logs.read), so each run's resets are confirmed there"),
        "{text}"
    );
    w.okta.forbid_log_reads();
    let r = check::run(&w.config, &w.secrets).await;
    assert!(r.safe_to_start(), "resets work without it: {r}");
    assert!(
        r.to_string().contains("warn Okta: the bot may not read the System Log (403 E0000006), so runs cannot be confirmed there and the results say `unknown`: grant the service app the okta.logs.read scope"),
        "{r}"
    );
}
