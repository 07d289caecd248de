//! Drill: Okta answers with malformed user entries (a field missing or of the wrong type). Each
//! such user is skipped or failed with the field named; the others on the same page and on later
//! pages go on to approval and run; nobody is reset twice.

use okta_reset::store::{Outcome, TargetClass};
use std::time::Duration;

use okta_reset::sim::okta::Malform;
use okta_reset::store::TargetRecord;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-77 malformed""#;

fn id_of(app: &TestApp, slug_login: &str) -> String {
    app.w.okta.user_id_by_login(slug_login).expect("demo user")
}

fn row<'a>(rows: &'a [TargetRecord], login: &str) -> &'a TargetRecord {
    rows.iter()
        .find(|t| t.target.login.as_deref() == Some(login))
        .unwrap_or_else(|| panic!("no row for {login}"))
}

#[tokio::test]
async fn malformed_entries_on_group_pages_are_skipped_with_the_field_named_and_the_rest_run() {
    // Pages of 10: the 40 contractors come in four pages.
    let app = spawn_with().okta_pages_of(10).start().await;
    let okta = &app.w.okta;
    let lee = "c01.lee@contractors.example.com";
    let moss = "c02.moss@contractors.example.com";
    let nash = "c03.nash@contractors.example.com";
    let young = "c15.young@contractors.example.com";
    let evans = "c21.evans@contractors.example.com";
    let ibsen = "c25.ibsen@contractors.example.com";
    // Read again by id, and fine there: these two are reset like the others.
    okta.malform_list_entry(&id_of(&app, lee), Malform::StatusNumber);
    okta.malform_list_entry(&id_of(&app, young), Malform::CredentialsText);
    // Bad in the list and again when read by id.
    okta.malform_list_entry(&id_of(&app, moss), Malform::MissingProfile);
    okta.malform_user_detail(&id_of(&app, moss), Malform::MissingStatus);
    // No usable id: cannot be read again.
    okta.malform_list_entry(&id_of(&app, nash), Malform::MissingId);
    okta.malform_list_entry(&id_of(&app, evans), Malform::IdNumber);
    okta.malform_list_entry(&id_of(&app, ibsen), Malform::NotAnObject);

    let p = app.request(ASK).await;
    let root = app.root_text(&p);
    // 28 eligible in the demo org, 4 of them unreadable.
    assert!(root.contains("*24 will reset*"), "{root}");
    assert!(root.contains("4 skipped: unreadable in Okta"), "{root}");

    let targets = app.targets(&p.id).await;
    let unreadable: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.target.classification == TargetClass::SkipMalformed)
        .collect();
    // The entry that was a bare string has neither id nor login: it is still a row, with its
    // reason, so the approver sees that one member of the group could not be read.
    assert_eq!(unreadable.len(), 4, "{unreadable:#?}");
    assert_eq!(
        row(&targets, moss).target.detail,
        "Okta's answer for this user lacked `status` (also when read again by id)"
    );
    assert_eq!(row(&targets, moss).target.okta_id, Some(id_of(&app, moss)));
    assert_eq!(
        row(&targets, nash).target.detail,
        "Okta's answer for this user lacked `id`"
    );
    assert_eq!(
        row(&targets, evans).target.detail,
        "Okta's answer for this user had `id` as a number, not text"
    );
    assert!(unreadable.iter().any(|t| t.target.login.is_none()
        && t.target.detail == "Okta's answer for this user was text instead of an object"));
    assert_eq!(row(&targets, lee).target.classification, TargetClass::Reset);
    assert_eq!(
        row(&targets, young).target.classification,
        TargetClass::Reset
    );

    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*24 reset*, 16 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_nobody_reset_twice();
    for login in [moss, nash, evans, ibsen] {
        assert_eq!(okta.reset_count(&id_of(&app, login)), 0, "{login}");
    }
    for login in [lee, young] {
        assert_eq!(okta.reset_count(&id_of(&app, login)), 1, "{login}");
    }
    // The results file names each reason.
    let results = app
        .w
        .slack
        .uploads()
        .into_iter()
        .find(|u| u.filename.contains("results"))
        .and_then(|u| u.content)
        .map(|b| String::from_utf8(b).unwrap())
        .expect("results file uploaded");
    assert!(
        results.contains("lacked `status` (also when read again by id)"),
        "{results}"
    );
    assert!(results.contains("lacked `id`"), "{results}");
}

#[tokio::test]
async fn a_malformed_entry_on_a_search_page_is_skipped_and_the_other_runs() {
    let app = spawn().await;
    let shah = "c09.shah@contractors.example.com";
    let tran = "c10.tran@contractors.example.com";
    app.w
        .okta
        .malform_list_entry(&id_of(&app, shah), Malform::MissingLogin);
    app.w
        .okta
        .malform_user_detail(&id_of(&app, shah), Malform::ProfileText);
    let p = app
        .request(
            r#"search:'profile.lastName eq "Shah" or profile.lastName eq "Tran"' reason:"INC-78""#,
        )
        .await;
    let root = app.root_text(&p);
    assert!(root.contains("*1 will reset*"), "{root}");
    assert!(root.contains("1 skipped: unreadable in Okta"), "{root}");
    let targets = app.targets(&p.id).await;
    let bad = targets
        .iter()
        .find(|t| t.target.classification == TargetClass::SkipMalformed)
        .unwrap();
    assert_eq!(bad.target.okta_id, Some(id_of(&app, shah)));
    assert_eq!(
        bad.target.detail,
        "Okta's answer for this user had `profile` as text, not an object (also when read again by id)"
    );
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*1 reset*, 1 skipped, 0 failed"),
        "{summary}"
    );
    assert_eq!(app.w.okta.reset_count(&id_of(&app, tran)), 1);
    assert_eq!(app.w.okta.reset_count(&id_of(&app, shah)), 0);
}

#[tokio::test]
async fn a_malformed_answer_when_reading_a_user_back_fails_that_user_and_the_run_goes_on() {
    let app = spawn_with().config(okta_times_out_after_1s).start().await;
    let lee = "c01.lee@contractors.example.com";
    let moss = "c02.moss@contractors.example.com";
    let p = app.request(ASK_LEE_AND_MOSS).await;
    // Each reset is applied but answered too late, so the run reads each user back; Okta's
    // answer for one of them is unusable then (the read just before the reset was fine).
    app.w.okta.hang_resets(Some(Duration::from_secs(3)));
    app.w
        .okta
        .malform_user_detail_after_reset(&id_of(&app, lee), Malform::StatusNumber);
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*1 reset*, 0 skipped, 1 failed"),
        "{summary}"
    );
    let targets = app.targets(&p.id).await;
    let failed = row(&targets, lee);
    assert_eq!(failed.outcome, Outcome::Failed);
    let why = failed.outcome_reason.as_deref().unwrap_or_default();
    assert!(
        why.contains("Okta's answer for this user had `status` as a number, not text"),
        "{why}"
    );
    assert_eq!(row(&targets, moss).outcome, Outcome::Reset);
    // Not sent again on a guess.
    app.assert_okta_reset_each_once(2);
}

#[tokio::test]
async fn a_reset_answered_with_a_body_that_is_not_json_counts_once_as_done() {
    // The reset's answer body is not read (with sendEmail=true Okta returns `{}`): a 200 is the
    // reset, so a garbled body neither fails the user nor leads to a second reset.
    let app = spawn().await;
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.w.okta.garble_reset_bodies();
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*2 reset*, 0 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_okta_reset_each_once(2);
}
