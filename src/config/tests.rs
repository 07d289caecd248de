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
    assert_eq!(c.policy.approvers.len(), 2);
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
            "policy.approvers is empty: list the Slack user IDs (U…) allowed to approve"
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
        "SLACK_BOT_TOKEN" => Some("xapp-1-abc".into()),
        _ => Some("x".into()),
    })
    .expect_err("refused");
    assert_eq!(err.problems.len(), 1);
    assert!(err.problems[0].starts_with("SLACK_BOT_TOKEN does not start with `xoxb-`"));
    // The refusal never repeats the secret itself.
    assert!(!err.to_string().contains("xapp-1-abc"));
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
