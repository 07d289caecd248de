use serde_json::json;
use slack_morphism::prelude as sm;

use super::*;

fn channel() -> SlackChannelId {
    SlackChannelId::parse("C0001").unwrap()
}

/// A `view_submission` shaped like Slack's, with `values` for the given blocks.
fn submission(values: Value) -> Value {
    json!({
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "sim"},
        "user": {"id": "U0001", "username": "alice", "team_id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "1.2.abc",
        "view": {
            "id": "V0001", "team_id": "T0001", "type": "modal",
            "callback_id": CALLBACK_ID, "private_metadata": "C0001",
            "state": {"values": values},
            "hash": "1.abc"
        }
    })
}

fn kind(k: &str) -> Value {
    json!({"kind": {"kind": {"type": "radio_buttons", "selected_option": {"value": k}}}})
}

fn with(mut base: Value, block: &str, action: Value) -> Value {
    base[block] = json!({ block: action });
    base
}

#[test]
fn the_form_survives_slack_morphisms_view_type_with_its_file_input() {
    let v = request_form(&channel(), true);
    let view: sm::SlackView = serde_json::from_value(v.clone()).expect("a valid view");
    let back = serde_json::to_value(&view).unwrap();
    let file = back["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == FILE)
        .expect("file block");
    assert_eq!(file["element"]["type"], "file_input");
    assert_eq!(file["element"]["filetypes"], json!(["csv", "txt"]));
    assert_eq!(file["element"]["max_files"], 1);
    assert_eq!(back["private_metadata"], "C0001");
    assert_eq!(back["callback_id"], CALLBACK_ID);
    let reason = &v["blocks"][4];
    assert_eq!(
        (reason["block_id"].as_str(), &reason["optional"]),
        (Some(REASON), &json!(false))
    );
}

#[test]
fn a_submission_is_read_with_its_uploaded_files() {
    let values = with(
        with(
            with(
                kind(KIND_FILE),
                FILE,
                json!({"type": "file_input", "files": [
                {"id": "F0001", "name": "users.csv", "filetype": "csv",
                 "url_private_download": "https://files.slack.com/files-pri/T0001-F0001/download/users.csv"}]}),
            ),
            REASON,
            json!({"type": "plain_text_input", "value": "  INC-88  "}),
        ),
        OPTIONS,
        json!({"type": "checkboxes", "selected_options": [{"value": REVOKE}]}),
    );
    let s = parse_submission(&submission(values)).expect("our form");
    assert_eq!(s.user.as_str(), "U0001");
    assert_eq!(s.channel.as_str(), "C0001");
    assert_eq!(s.files, ["F0001"]);
    assert_eq!(s.reason.as_deref(), Some("INC-88"));
    assert!(s.revoke_sessions && !s.dry_run);
    let r = to_request(&s).unwrap();
    assert_eq!(r.file.as_deref(), Some("F0001"));
    assert!(r.spec.targets.is_empty());
    assert_eq!(r.spec.reason.as_deref(), Some("INC-88"));
}

#[test]
fn the_contain_checkbox_asks_to_contain_and_implies_revoking_sessions() {
    let s = parse_submission(&submission(with(
        with(
            kind(KIND_USERS),
            USERS,
            json!({"type": "plain_text_input", "value": "a@x.com"}),
        ),
        OPTIONS,
        json!({"type": "checkboxes", "selected_options": [{"value": CONTAIN}]}),
    )))
    .expect("our form");
    assert!(s.contain && !s.revoke_sessions);
    let r = to_request(&s).unwrap();
    assert!(r.spec.contain && r.spec.revoke_sessions);
    assert_eq!(r.spec.to_string(), "user:a@x.com --contain");
    let form = request_form(&SlackChannelId::parse("C0001").unwrap(), false).to_string();
    assert!(form.contains(&format!("\"value\":\"{CONTAIN}\"")), "{form}");
}

#[test]
fn org_wide_installs_and_other_views_parse_as_slack_sends_them() {
    let mut p = submission(kind(KIND_FILE));
    p["team"] = Value::Null;
    assert_eq!(parse_submission(&p).unwrap().team, None);
    p["view"]["callback_id"] = json!("someone_elses_form");
    assert_eq!(parse_submission(&p), None);
}

#[test]
fn groups_and_user_lists_become_targets() {
    let s = parse_submission(&submission(with(
        kind(KIND_GROUP),
        GROUP,
        json!({"value": "00g1abcd2EFGH3ijk4l5"}),
    )))
    .unwrap();
    assert_eq!(
        to_request(&s).unwrap().spec.targets,
        [TargetSpec::GroupId(
            OktaGroupId::parse("00g1abcd2EFGH3ijk4l5").unwrap()
        )]
    );
    let s = parse_submission(&submission(with(
        kind(KIND_USERS),
        USERS,
        json!({"value": "a@x.com, b@x.com\n00u1a2b3c4d5e6f7g8h9;c@x.com"}),
    )))
    .unwrap();
    let targets: Vec<String> = to_request(&s)
        .unwrap()
        .spec
        .targets
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(
        targets,
        [
            "user:a@x.com",
            "user:b@x.com",
            "user:00u1a2b3c4d5e6f7g8h9",
            "user:c@x.com"
        ]
    );
}

#[test]
fn missing_fields_are_named_next_to_their_block() {
    let cases = [
        (
            kind(KIND_GROUP),
            GROUP,
            "Name the Okta group, or choose another kind above.",
        ),
        (
            kind(KIND_USERS),
            USERS,
            "List at least one login, email or Okta user id, or choose another kind above.",
        ),
        (
            kind(KIND_FILE),
            FILE,
            "Upload the CSV file, or choose another kind above.",
        ),
    ];
    for (values, block, msg) in cases {
        let s = parse_submission(&submission(values)).unwrap();
        assert_eq!(to_request(&s), Err(vec![(block, msg.to_string())]));
    }
    let s = parse_submission(&submission(with(
        with(
            kind(KIND_FILE),
            FILE,
            json!({"files": [{"id": "F1"}, {"id": "F2"}]}),
        ),
        REASON,
        json!({"value": "x".repeat(MAX_REASON_CHARS + 1)}),
    )))
    .unwrap();
    let errors = to_request(&s).unwrap_err();
    assert_eq!(
        errors,
        [
            (
                REASON,
                "The reason is 501 characters long; keep it to 500 or fewer.".to_string()
            ),
            (
                FILE,
                "Upload one file per request (2 were attached).".to_string()
            ),
        ]
    );
    assert_eq!(
        errors_response(&errors),
        json!({"response_action": "errors", "errors": {
            "reason": "The reason is 501 characters long; keep it to 500 or fewer.",
            "file": "Upload one file per request (2 were attached)."}})
    );
}

/// Form errors are plain text in Slack: a code span would show its backticks literally.
#[test]
fn form_errors_are_plain_text_with_quotes_not_backticks() {
    let errors = vec![
        (
            FILE,
            format!("{} is a spreadsheet", crate::slack::escape::code("users<&>.xlsx")),
        ),
        (
            KIND,
            "the limit is 1 an hour per person (`policy.max_requests_per_hour`); a typed &amp;lt; stays".into(),
        ),
    ];
    assert_eq!(
        errors_response(&errors)["errors"],
        json!({
            "file": "“users<&>.xlsx” is a spreadsheet",
            "kind": "the limit is 1 an hour per person (“policy.max_requests_per_hour”); a typed &lt; stays"
        })
    );
}
