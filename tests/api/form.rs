//! The request form: `/okta-reset` alone opens it (`views.open`); its `view_submission` starts
//! the same flow, and field errors come back inside the form.

use okta_reset::domain::request::State;
use okta_reset::slack::modal::{FILE, GROUP, KIND_FILE, KIND_GROUP, KIND_USERS, USERS};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::upload_helpers::*;

fn errors(r: &okta_reset::sim::slack::DriverResponse) -> Value {
    let j = r
        .json
        .clone()
        .unwrap_or_else(|| panic!("not JSON: {}", r.body));
    assert_eq!(j["response_action"], "errors", "{j}");
    j["errors"].clone()
}

#[tokio::test]
async fn okta_reset_alone_or_form_opens_the_form_and_help_still_helps() {
    let app = spawn().await;
    let view = app.open_form(REQUESTER, "").await;
    assert_eq!(view.user, REQUESTER);
    assert_eq!(view.view["callback_id"], "okta_reset_request");
    assert_eq!(view.view["private_metadata"], "C0001");
    let file = view.view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == FILE)
        .unwrap()
        .clone();
    assert_eq!(file["element"]["type"], "file_input");
    assert_eq!(file["element"]["filetypes"], json!(["csv", "txt"]));
    app.open_form(REQUESTER, "form").await;
    assert!(app.slash(REQUESTER, "help").await.starts_with("*Usage:*"));
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_csv_submitted_in_the_form_is_approved_and_run() {
    let app = spawn().await;
    let view = app.open_form(REQUESTER, "").await;
    let file = app.upload(
        REQUESTER,
        "rockstar-export-users.csv",
        fixture("rockstar-export-users.csv"),
    );
    let mut values = form_values(KIND_FILE, &[(FILE, file_value(&[file]))], Some("INC-90"));
    values["options"]["options"]["selected_options"] = json!([{"value": "revoke_sessions"}]);
    let r = app.submit_form(REQUESTER, &view, values).await;
    assert_eq!(r.body, "", "the form closes");
    let ack = app.ephemeral_to(REQUESTER, "Looking up").await;
    assert!(
        ack.ends_with("(12 row(s) from `rockstar-export-users.csv`)…"),
        "{ack}"
    );
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*9 will reset*"), "{root}");
    assert!(root.contains("*Reason:* `INC-90`"), "{root}");
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    app.wait_state(&p.id, State::Completed).await;
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 9);
    assert!(calls.iter().all(|c| c.revoke_sessions));
}

#[tokio::test]
async fn a_group_or_a_user_list_in_the_form_is_the_same_request_as_typed() {
    let app = spawn().await;
    let view = app.open_form(REQUESTER, "").await;
    let values = form_values(
        KIND_GROUP,
        &[(GROUP, text_value("contractors"))],
        Some("INC-91"),
    );
    assert_eq!(app.submit_form(REQUESTER, &view, values).await.body, "");
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*28 will reset*"), "{root}");
    assert!(root.contains("`group:contractors reason:INC-91`"), "{root}");

    let view = app.open_form(REQUESTER, "").await;
    let values = form_values(
        KIND_USERS,
        &[(
            USERS,
            text_value("c01.lee@contractors.example.com\nc02.moss@contractors.example.com"),
        )],
        Some("INC-92"),
    );
    app.submit_form(REQUESTER, &view, values).await;
    app.w
        .slack
        .wait_for("a second root", WAIT, |s| {
            s.messages()
                .iter()
                .filter(|m| m.thread_ts.is_none())
                .count()
                == 2
        })
        .await
        .unwrap();
    let second = &app.roots()[1];
    assert!(
        second.text.contains("2 user(s) to reset"),
        "{}",
        second.text
    );
}

#[tokio::test]
async fn missing_or_bad_fields_come_back_next_to_the_field_and_change_nothing() {
    let app = spawn().await;
    let view = app.open_form(REQUESTER, "").await;
    let cases = [
        (
            form_values(KIND_FILE, &[], Some("INC-1")),
            json!({"file": "Upload the CSV file, or choose another kind above."}),
        ),
        (
            form_values(KIND_GROUP, &[], Some("INC-1")),
            json!({"group": "Name the Okta group, or choose another kind above."}),
        ),
        (
            form_values(KIND_USERS, &[(USERS, text_value("  \n "))], Some("INC-1")),
            json!({"users": "List at least one login, email or Okta user id, or choose another kind above."}),
        ),
        (
            form_values(KIND_GROUP, &[(GROUP, text_value("contractors"))], None),
            json!({"reason": "A reason is required: give one, for example an incident number."}),
        ),
    ];
    for (values, want) in cases {
        let r = app.submit_form(REQUESTER, &view, values).await;
        assert_eq!(errors(&r), want);
    }
    app.settle().await;
    app.assert_nothing_changed().await;
    app.assert_okta_untouched();
}

#[tokio::test]
async fn a_bad_file_in_the_form_is_refused_next_to_the_file_field() {
    let app = spawn_with()
        .config(|c| c.policy.max_targets = 2)
        .start()
        .await;
    let view = app.open_form(REQUESTER, "").await;
    let cases = [
        (
            app.upload(REQUESTER, "users<&>.xlsx", b"PK\x03\x04\x14\x00".to_vec()),
            "“users<&>.xlsx” is a spreadsheet (Excel, Numbers or OpenDocument), not a CSV file: save it as CSV (in a spreadsheet: File → Save As → “CSV UTF-8”) and share that file instead.",
        ),
        (
            app.upload(REQUESTER, "three.csv", "a@x.com\nb@x.com\nc@x.com\n"),
            "“three.csv” lists 3 users, more than the limit of 2. Split it, or ask an administrator to raise “policy.max_targets”.",
        ),
        (
            // Shown as plain text in the form: what was escaped for messages is shown as typed.
            app.upload(REQUESTER, "<b>.csv", "Name\nDana\n"),
            "“<b>.csv” has no column the bot can use (its first row is “Name”). Head a column “login”, “email” or “id” (Rockstar's “User Id” and Okta reports' “Username” or “Primary email” work too), or list only logins, emails or Okta user ids, one per line, without a header.",
        ),
    ];
    for (file, want) in cases {
        let values = form_values(KIND_FILE, &[(FILE, file_value(&[file]))], Some("INC-1"));
        let r = app.submit_form(REQUESTER, &view, values).await;
        assert_eq!(errors(&r), json!({ "file": want }));
    }
    app.settle().await;
    app.assert_nothing_changed().await;
    app.assert_okta_untouched();
}

#[tokio::test]
async fn only_requesters_get_the_form_and_only_requesters_can_submit_it() {
    let app = spawn().await;
    let r = app.w.driver.slash(OUTSIDER, "C0001", "").await;
    assert_eq!(
        r.json.unwrap()["text"],
        "You are not on the list of people who may request password resets. Ask an okta-reset administrator to add your Slack user ID (U0004)."
    );
    assert!(app.w.slack.views().is_empty());
    let r = app.w.driver.slash(REQUESTER, "C0999", "form").await;
    assert_eq!(
        r.json.unwrap()["text"],
        "Password resets can't be requested in this channel. Use one of: <#C0001>."
    );
    assert!(app.w.slack.views().is_empty());
    // A submission by someone else (a forwarded view, a removed requester) is refused in the form.
    let view = app.open_form(REQUESTER, "").await;
    let values = form_values(KIND_GROUP, &[(GROUP, text_value("contractors"))], Some("x"));
    let r = app.submit_form(OUTSIDER, &view, values).await;
    assert_eq!(
        errors(&r),
        json!({"kind": "You are not on the list of people who may request password resets. Ask an okta-reset administrator to add your Slack user ID (U0004)."})
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_form_slack_would_not_open_falls_back_to_typing() {
    let app = spawn().await;
    app.w.slack.fail_next("views.open", 1, "expired_trigger_id");
    let text = app.slash(REQUESTER, "").await;
    assert!(
        text.starts_with("The request form could not be opened (")
            && text.contains("expired_trigger_id"),
        "{text}"
    );
    assert!(text.contains("*Usage:*"), "{text}");
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_file_too_slow_to_check_in_time_closes_the_form_and_the_answer_follows() {
    let app = spawn().await;
    app.w
        .slack
        .delay_downloads(std::time::Duration::from_millis(3500));
    let view = app.open_form(REQUESTER, "").await;
    let file = app.w.slack.add_file_as(
        REQUESTER,
        "users.csv",
        "csv",
        "text/csv",
        bytes::Bytes::from_static(b"PK\x03\x04\x14\x00"),
        false,
    );
    let values = form_values(KIND_FILE, &[(FILE, file_value(&[file]))], Some("INC-1"));
    let r = app.submit_form(REQUESTER, &view, values).await;
    assert_eq!(r.body, "", "Slack stops waiting, so the form closes");
    let text = app.ephemeral_to(REQUESTER, "not made").await;
    assert_eq!(
        text,
        "Your request was not made: `users.csv` is a spreadsheet (Excel, Numbers or OpenDocument), not a CSV file: save it as CSV (in a spreadsheet: File → Save As → “CSV UTF-8”) and share that file instead."
    );
    app.assert_nothing_changed().await;
}
