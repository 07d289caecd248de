use super::*;

const EXAMPLE: &str = include_str!("../../config/okta-reset.example.toml");

fn problems_of(toml_text: &str) -> Vec<String> {
    Config::from_toml(toml_text)
        .expect_err("expected a refusal")
        .problems
}

fn example_with(from: &str, to: &str) -> String {
    assert!(EXAMPLE.contains(from), "example lacks {from}");
    EXAMPLE.replacen(from, to, 1)
}

#[test]
fn the_example_config_is_valid_and_complete() {
    let c = Config::from_toml(EXAMPLE).expect("example parses");
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(c.slack.team_id.as_str(), "T0001");
    assert_eq!(c.slack.channels.len(), 1);
    assert_eq!(c.okta.concurrency, 8);
    assert_eq!(c.policy.approvers.users.len(), 2);
    assert_eq!(c.policy.approval_ttl_minutes, 30);
    assert_eq!(c.policy.max_targets, 1000);
    assert!(c.policy.require_reason);
    assert_eq!(c.store.url, "sqlite://data/okta-reset.db");
}

#[test]
fn plain_http_is_refused_for_a_non_loopback_host() {
    let p = problems_of(&example_with(
        "org_url = \"https://example.okta.com\"",
        "org_url = \"http://example.okta.com\"",
    ));
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("okta.org_url: plain http://"), "{p:?}");
    assert!(p[0].contains("https://example.okta.com"), "{p:?}");
}

#[test]
fn plain_http_is_accepted_for_loopback() {
    let text = example_with(
        "org_url = \"https://example.okta.com\"",
        "org_url = \"http://127.0.0.1:8080\"",
    );
    assert!(Config::from_toml(&text).is_ok());
}

#[test]
fn a_malformed_url_names_the_key() {
    let p = problems_of(&example_with(
        "api_url = \"https://slack.com/api\"",
        "api_url = \"slack dot com\"",
    ));
    assert!(
        p[0].starts_with("slack.api_url: `slack dot com` is not a URL"),
        "{p:?}"
    );
}

#[test]
fn empty_approvers_are_refused() {
    let p = problems_of(&example_with(
        "approvers = [\"U0002\", \"U0003\"]",
        "approvers = []",
    ));
    assert_eq!(
        p,
        vec![
            "policy.approvers is empty: list the Slack user IDs (U…) or user group IDs (S…) allowed to approve"
                .to_string()
        ]
    );
}

#[test]
fn approvers_that_are_only_the_requester_are_refused() {
    let p = problems_of(&example_with(
        "approvers = [\"U0002\", \"U0003\"]",
        "approvers = [\"U0001\"]",
    ));
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with("policy.approvers only contains the requester(s) U0001"),
        "{p:?}"
    );
}

#[test]
fn names_instead_of_ids_are_refused() {
    let p = problems_of(&example_with(
        "requesters = [\"U0001\"]",
        "requesters = [\"alice\"]",
    ));
    assert!(p[0].starts_with("policy.requesters: "), "{p:?}");
    assert!(p[0].contains("never names"), "{p:?}");
}

#[test]
fn user_group_ids_are_accepted_beside_user_ids() {
    let c = Config::from_toml(&example_with(
        "approvers = [\"U0002\", \"U0003\"]",
        "approvers = [\"U0002\", \"S0ADMINS\"]",
    ))
    .expect("a user group id is accepted");
    assert_eq!(c.policy.approvers.users.len(), 1);
    assert_eq!(
        c.policy.approvers.groups.iter().next().unwrap().as_str(),
        "S0ADMINS"
    );
}

#[test]
fn group_names_handles_and_malformed_group_ids_are_refused() {
    for (entry, wanted) in [
        ("@it-admins", "never names"),
        ("it-admins", "never names"),
        ("S1", "not a Slack user group id"),
        ("Sadmins", "never by its name or @handle"),
    ] {
        let p = problems_of(&example_with(
            "requesters = [\"U0001\"]",
            &format!("requesters = [\"{entry}\"]"),
        ));
        assert_eq!(p.len(), 1, "{entry}: {p:?}");
        assert!(p[0].starts_with("policy.requesters: "), "{entry}: {p:?}");
        assert!(p[0].contains(wanted), "{entry}: {p:?}");
    }
}

#[test]
fn an_approver_group_counts_as_someone_else_for_the_two_person_rule() {
    // Only the requester by ID: refused. The same with a group beside it: accepted, because the
    // group's members are known only at run time (where self-approval is refused).
    let with_group = example_with(
        "approvers = [\"U0002\", \"U0003\"]",
        "approvers = [\"U0001\", \"S0ADMINS\"]",
    );
    assert!(Config::from_toml(&with_group).is_ok());
    let only_groups = example_with(
        "approvers = [\"U0002\", \"U0003\"]",
        "approvers = [\"S0ADMINS\"]",
    );
    assert!(Config::from_toml(&only_groups).is_ok());
}

#[test]
fn unknown_keys_are_refused_so_typos_do_not_pass_silently() {
    let p = problems_of(&example_with("max_targets = 1000", "max_target = 1000"));
    assert!(p[0].contains("max_target"), "{p:?}");
}

#[test]
fn concurrency_is_capped() {
    let p = problems_of(&example_with("concurrency = 8", "concurrency = 31"));
    assert!(
        p[0].starts_with("okta.concurrency: 31 is out of range"),
        "{p:?}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = example_with("concurrency = 8", "concurrency = 0");
    let text = text.replacen("approvers = [\"U0002\", \"U0003\"]", "approvers = []", 1);
    assert_eq!(problems_of(&text).len(), 2);
}

#[test]
fn missing_secrets_name_the_variable_and_where_to_get_it() {
    let err = Secrets::from_env_with(|_| None).expect_err("refused");
    assert_eq!(err.problems.len(), 3);
    assert!(err.problems[0].starts_with("SLACK_SIGNING_SECRET is not set"));
    assert!(err.problems[1].starts_with("SLACK_BOT_TOKEN is not set"));
    assert!(err.problems[2].starts_with("OKTA_API_TOKEN is not set"));
}

#[test]
fn a_bot_token_of_the_wrong_kind_is_refused() {
    let err = Secrets::from_env_with(|name| match name {
        // A user token; an app token here has its own message (see below).
        "SLACK_BOT_TOKEN" => Some("xoxp-1-abc".into()),
        "SLACK_APP_TOKEN" => None,
        _ => Some("x".into()),
    })
    .expect_err("refused");
    assert_eq!(err.problems.len(), 1);
    assert!(err.problems[0].starts_with("SLACK_BOT_TOKEN does not start with `xoxb-`"));
    // The refusal never repeats the secret itself.
    assert!(!err.to_string().contains("xoxp-1-abc"));
}

#[test]
fn metrics_on_the_main_port_is_refused_and_another_port_is_kept() {
    let p = problems_of(&example_with(
        "body_limit_bytes = 65536",
        "body_limit_bytes = 65536\nmetrics_listen = \"0.0.0.0:3000\"",
    ));
    assert_eq!(
        p,
        vec!["server.metrics_listen: 0.0.0.0:3000 clashes with server.listen (127.0.0.1:3000); use another port, or leave metrics_listen out to serve /metrics on server.listen".to_string()]
    );
    let c = Config::from_toml(&example_with(
        "body_limit_bytes = 65536",
        "body_limit_bytes = 65536\nmetrics_listen = \"127.0.0.1:9100\"",
    ))
    .unwrap();
    assert_eq!(
        c.server.metrics_listen.unwrap().to_string(),
        "127.0.0.1:9100"
    );
    assert_eq!(
        Config::from_toml(EXAMPLE).unwrap().server.metrics_listen,
        None
    );
}

#[test]
fn slack_mode_defaults_to_http_and_takes_socket() {
    assert_eq!(
        Config::from_toml(EXAMPLE).unwrap().slack.mode,
        SlackMode::Http
    );
    let c = Config::from_toml(&example_with("mode = \"http\"", "mode = \"socket\"")).unwrap();
    assert_eq!(c.slack.mode, SlackMode::Socket);
    let p = problems_of(&example_with("mode = \"http\"", "mode = \"websocket\""));
    assert!(p[0].contains("unknown variant `websocket`"), "{p:?}");
}

fn secrets_from(vars: &[(&str, &str)]) -> Result<Secrets, ConfigError> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Secrets::from_env_with(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

const BASE_ENV: [(&str, &str); 3] = [
    ("SLACK_SIGNING_SECRET", "s"),
    ("SLACK_BOT_TOKEN", "xoxb-1"),
    ("OKTA_API_TOKEN", "o"),
];

#[test]
fn a_bot_token_where_the_app_token_belongs_is_named() {
    let mut vars = BASE_ENV.to_vec();
    vars.push(("SLACK_APP_TOKEN", "xoxb-2"));
    assert_eq!(
        secrets_from(&vars).unwrap_err().problems,
        vec!["SLACK_APP_TOKEN holds a bot token (xoxb-…): Socket Mode needs the app-level token (xapp-…) from the app's Basic Information → App-Level Tokens, with the connections:write scope; the xoxb- token belongs in SLACK_BOT_TOKEN".to_string()]
    );
}

#[test]
fn an_app_token_where_the_bot_token_belongs_is_named() {
    let mut vars = BASE_ENV.to_vec();
    vars[1] = ("SLACK_BOT_TOKEN", "xapp-1-A1-2");
    assert_eq!(
        secrets_from(&vars).unwrap_err().problems,
        vec!["SLACK_BOT_TOKEN holds an app-level token (xapp-…): use the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page; the xapp- token belongs in SLACK_APP_TOKEN".to_string()]
    );
}

#[test]
fn socket_mode_needs_the_app_token_and_http_does_not() {
    let socket = Config::from_toml(&example_with("mode = \"http\"", "mode = \"socket\"")).unwrap();
    let http = Config::from_toml(EXAMPLE).unwrap();
    let without = secrets_from(&BASE_ENV).unwrap();
    assert!(without.check_for(&http).is_ok());
    assert_eq!(
        without.check_for(&socket).unwrap_err().problems,
        vec!["SLACK_APP_TOKEN is not set: slack.mode = \"socket\" needs an app-level token (xapp-…) with the connections:write scope, from the app's Basic Information → App-Level Tokens".to_string()]
    );
    let mut vars = BASE_ENV.to_vec();
    vars.push(("SLACK_APP_TOKEN", "xapp-1-A1-2"));
    let with = secrets_from(&vars).unwrap();
    assert_eq!(
        with.slack_app_token.as_ref().unwrap().expose_secret(),
        "xapp-1-A1-2"
    );
    assert!(with.check_for(&socket).is_ok());
}

#[test]
fn the_admin_console_is_derived_or_must_be_given_for_a_custom_domain() {
    let c = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(c.okta.admin_url.as_str(), "https://example-admin.okta.com/");
    let custom = example_with(
        "org_url = \"https://example.okta.com\"",
        "org_url = \"https://login.example.com\"",
    );
    assert_eq!(
        problems_of(&custom),
        vec!["okta.admin_url: `login.example.com` is not an Okta domain (okta.com, oktapreview.com, okta-emea.com, okta-gov.com, okta.mil), so the admin console's address cannot be derived; set okta.admin_url to your admin console, e.g. \"https://YOURORG-admin.okta.com\"".to_string()]
    );
    let given = example_with(
        "# admin_url = \"https://example-admin.okta.com\"",
        "admin_url = \"https://acme-admin.okta.com\"",
    );
    let given = given.replacen("https://example.okta.com", "https://login.example.com", 1);
    assert_eq!(
        Config::from_toml(&given).unwrap().okta.admin_url.as_str(),
        "https://acme-admin.okta.com/"
    );
    let plain = example_with(
        "# admin_url = \"https://example-admin.okta.com\"",
        "admin_url = \"http://example-admin.okta.com\"",
    );
    assert!(problems_of(&plain)[0].starts_with("okta.admin_url: plain http://"));
}

#[test]
fn okta_pacing_and_protection_defaults() {
    let c = Config::from_toml(EXAMPLE).expect("example parses");
    assert_eq!(c.okta.max_share, 0.8);
    assert_eq!(c.okta.auth, OktaAuthConfig::ApiToken);
    assert!(c.policy.protected_groups.is_empty() && c.policy.protected_logins.is_empty());
    let text = example_with(
        "protected_groups = []",
        "protected_groups = [\"it-admins\", \" 00g1 \"]",
    );
    let c = Config::from_toml(&text).unwrap();
    assert_eq!(c.policy.protected_groups, ["it-admins", "00g1"]);
}

#[test]
fn max_share_out_of_range_is_refused_with_the_fix() {
    for bad in ["0.0", "1.5", "-0.2"] {
        let p = problems_of(&example_with(
            "max_share = 0.8",
            &format!("max_share = {bad}"),
        ));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("okta.max_share: ") && p[0].contains(" is out of range"),
            "{p:?}"
        );
        assert!(p[0].contains("0.8 leaves 20%"), "{p:?}");
    }
}

#[test]
fn an_empty_protected_entry_is_refused() {
    let p = problems_of(&example_with(
        "protected_logins = []",
        "protected_logins = [\" \"]",
    ));
    assert_eq!(p, ["policy.protected_logins: an entry is empty; remove it"]);
}

const OAUTH: &str = "auth = \"oauth\"\n[okta.oauth]\nclient_id = \"0oa1\"\nprivate_key_path = \"/nonexistent/key.pem\"\n";

#[test]
fn oauth_settings_parse_with_default_scopes() {
    let c = Config::from_toml(&example_with(
        "\nauth = \"api_token\"\n",
        &format!("\n{OAUTH}"),
    ))
    .unwrap();
    let OktaAuthConfig::OAuth(o) = &c.okta.auth else {
        panic!("{:?}", c.okta.auth)
    };
    assert_eq!(o.client_id, "0oa1");
    assert_eq!(o.scopes, crate::okta::auth::DEFAULT_SCOPES);
    assert_eq!(
        o.private_key_path.as_deref(),
        Some(Path::new("/nonexistent/key.pem"))
    );
}

#[test]
fn oauth_without_its_table_or_client_id_is_refused() {
    let p = problems_of(&example_with(
        "\nauth = \"api_token\"",
        "\nauth = \"oauth\"",
    ));
    assert!(
        p[0].starts_with("okta.auth is \"oauth\" but [okta.oauth] is missing"),
        "{p:?}"
    );
    let p = problems_of(&example_with(
        "\nauth = \"api_token\"\n",
        &format!(
            "\n{}",
            OAUTH.replace("client_id = \"0oa1\"", "client_id = \"\"")
        ),
    ));
    assert!(p[0].starts_with("okta.oauth.client_id is empty"), "{p:?}");
    let p = problems_of(&example_with("\nauth = \"api_token\"", "\nauth = \"ssws\""));
    assert!(p[0].starts_with("okta.auth: `ssws` is not a way"), "{p:?}");
}

fn oauth_config() -> Config {
    Config::from_toml(&example_with(
        "\nauth = \"api_token\"\n",
        &format!("\n{OAUTH}"),
    ))
    .unwrap()
}

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| {
        pairs
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn oauth_reads_the_key_from_the_environment_and_needs_no_api_token() {
    let c = oauth_config();
    let s = Secrets::read(
        &c.okta.auth,
        env(&[
            ("SLACK_SIGNING_SECRET", "s"),
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            (
                "OKTA_PRIVATE_KEY",
                crate::sim::okta::test_keys::ec_private(),
            ),
        ]),
    )
    .unwrap();
    assert!(s.okta_signing_key.is_some());
    assert!(s.okta_api_token.expose_secret().is_empty());
}

#[test]
fn a_private_key_that_does_not_parse_stops_the_start_naming_its_source() {
    let c = oauth_config();
    let base = [("SLACK_SIGNING_SECRET", "s"), ("SLACK_BOT_TOKEN", "xoxb-1")];
    let mut with_bad = base.to_vec();
    with_bad.push(("OKTA_PRIVATE_KEY", "not a key"));
    let err = Secrets::read(&c.okta.auth, env(&with_bad)).unwrap_err();
    assert_eq!(
        err.problems,
        ["OKTA_PRIVATE_KEY is not a PEM private key: expected `-----BEGIN PRIVATE KEY-----` (PKCS#8, RSA or EC P-256) or `-----BEGIN RSA PRIVATE KEY-----`"]
    );
    assert!(!err.to_string().contains("not a key"));
    // No env variable: the file named in the config is read, and its absence is named.
    let err = Secrets::read(&c.okta.auth, env(&base)).unwrap_err();
    assert!(
        err.problems[0]
            .starts_with("okta.oauth.private_key_path: cannot read /nonexistent/key.pem"),
        "{err}"
    );
    // A file that holds something else.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(
        &path,
        "-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let mut c = oauth_config();
    if let OktaAuthConfig::OAuth(o) = &mut c.okta.auth {
        o.private_key_path = Some(path.clone());
    }
    let err = Secrets::read(&c.okta.auth, env(&base)).unwrap_err();
    assert_eq!(
        err.problems[0],
        format!("okta.oauth.private_key_path ({}) is not a PEM private key: expected `-----BEGIN PRIVATE KEY-----` (PKCS#8, RSA or EC P-256) or `-----BEGIN RSA PRIVATE KEY-----`", path.display())
    );
}

#[test]
fn the_abuse_limits_have_defaults_tied_to_max_targets() {
    let c = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(c.policy.max_requests_per_hour, 10);
    assert_eq!(c.policy.max_targets_per_day, 2000);
    assert_eq!(c.policy.max_runs_in_progress, 2);
    // Left out, the day's limit is twice max_targets.
    let text = example_with("max_targets_per_day = 2000\n", "").replacen(
        "max_targets = 1000",
        "max_targets = 300",
        1,
    );
    let c = Config::from_toml(&text).unwrap();
    assert_eq!(c.policy.max_targets_per_day, 600);
}

#[test]
fn zero_or_absurd_limits_are_refused_naming_the_key() {
    for (from, to, key) in [
        (
            "max_requests_per_hour = 10",
            "max_requests_per_hour = 0",
            "policy.max_requests_per_hour: use 1 to 1000",
        ),
        (
            "max_requests_per_hour = 10",
            "max_requests_per_hour = 100000",
            "policy.max_requests_per_hour: use 1 to 1000",
        ),
        (
            "max_runs_in_progress = 2",
            "max_runs_in_progress = 0",
            "policy.max_runs_in_progress: use 1 to 100",
        ),
        (
            "max_runs_in_progress = 2",
            "max_runs_in_progress = 500",
            "policy.max_runs_in_progress: use 1 to 100",
        ),
        (
            "max_targets_per_day = 2000",
            "max_targets_per_day = 0",
            "policy.max_targets_per_day: use 1 to 10000000",
        ),
        (
            "max_targets_per_day = 2000",
            "max_targets_per_day = 999999999999",
            "policy.max_targets_per_day: use 1 to 10000000",
        ),
        (
            "max_targets_per_day = 2000",
            "max_targets_per_day = 999",
            "policy.max_targets_per_day (999) is less than policy.max_targets (1000)",
        ),
    ] {
        let p = problems_of(&example_with(from, to));
        assert_eq!(p.len(), 1, "{to}: {p:?}");
        assert!(p[0].starts_with(key), "{to}: {p:?}");
    }
}

fn with_policy(extra: &str) -> String {
    example_with(
        "require_reason = true\n",
        &format!("require_reason = true\n{extra}\n"),
    )
}

#[test]
fn sign_off_settings_default_to_off_and_parse() {
    let c = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(c.policy.two_approvers_above, None);
    assert_eq!(c.policy.canary_users, None);
    let c = Config::from_toml(&with_policy("two_approvers_above = 50\ncanary_users = 5")).unwrap();
    assert_eq!(c.policy.two_approvers_above, Some(50));
    assert_eq!(c.policy.canary_users, Some(5));
}

#[test]
fn a_canary_of_zero_or_not_below_max_targets_is_refused() {
    assert_eq!(
        problems_of(&with_policy("canary_users = 0")),
        vec!["policy.canary_users: must be at least 1 (remove it for no canary)".to_string()]
    );
    assert_eq!(
        problems_of(&with_policy("canary_users = 1000")),
        vec!["policy.canary_users: 1000 is not below policy.max_targets (1000), so no run would ever pause; lower it or remove it".to_string()]
    );
}

#[test]
fn two_approvers_above_must_be_reachable_and_satisfiable() {
    assert_eq!(
        problems_of(&with_policy("two_approvers_above = 1000")),
        vec!["policy.two_approvers_above: 1000 is not below policy.max_targets (1000), so it would never apply; lower it or remove it".to_string()]
    );
    // U0001 asks; U0001 and U0002 approve: only one approver besides the requester.
    let text = with_policy("two_approvers_above = 10").replacen(
        "approvers = [\"U0002\", \"U0003\"]",
        "approvers = [\"U0001\", \"U0002\"]",
        1,
    );
    let p = problems_of(&text);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("policy.two_approvers_above is set, but the requester(s) U0001 would have fewer than two approvers other than themselves"),
        "{p:?}"
    );
}
