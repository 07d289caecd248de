//! A CSV file shared in the channel with a message that mentions the bot: the same two-person
//! flow as a slash command, through the Events API.

use okta_reset::domain::request::State;
use okta_reset::store::TargetClass;

use crate::helpers::*;
use crate::upload_helpers::*;

const ASK: &str = r#"<@UBOT> reason:"INC-88" --revoke-sessions"#;

#[tokio::test]
async fn a_rockstar_export_shared_with_a_mention_is_approved_run_and_summarised() {
    let app = spawn().await;
    let file = app.upload(
        REQUESTER,
        "rockstar-export-users.csv",
        fixture("rockstar-export-users.csv"),
    );
    app.share(REQUESTER, ASK, &[file]).await;
    let ack = app.ephemeral_to(REQUESTER, "Looking up").await;
    assert!(
        ack.ends_with("(12 row(s) from `rockstar-export-users.csv`)…"),
        "{ack}"
    );
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(
        root.contains("`file:rockstar-export-users.csv reason:INC-88 --revoke-sessions`"),
        "{root}"
    );
    assert!(root.contains("*9 will reset*"), "{root}");
    for skipped in [
        "1 skipped: AD/LDAP-managed",
        "1 skipped: federated/social",
        "1 skipped: wrong status",
    ] {
        assert!(root.contains(skipped), "{skipped}: {root}");
    }
    assert!(
        root.contains("*From `rockstar-export-users.csv`:* 12 row(s), all naming an Okta user."),
        "{root}"
    );
    // Names from Okta that look like mentions are shown, never acted on.
    assert!(root.contains("&lt;!channel&gt;"), "{root}");
    assert!(!app.everything_said().contains("<!channel>"));

    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*9 reset*, 3 skipped, 0 failed"),
        "{summary}"
    );
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 9);
    assert!(calls.iter().all(|c| c.send_email && c.revoke_sessions));
    app.wait_state(&p.id, State::Completed).await;
    // Two deliveries of one message made one request.
    assert_eq!(app.all_requests().await.len(), 1);
    let audit: Vec<String> = app
        .audit_events(&p.id)
        .await
        .into_iter()
        .map(|e| format!("{} {}", e.action, e.detail))
        .collect();
    let received = audit
        .iter()
        .find(|a| a.starts_with("request_received"))
        .unwrap();
    assert!(
        received.contains("Rockstar “Export Users”, column User Id / Username / Primary email"),
        "{received}"
    );
}

#[tokio::test]
async fn an_okta_report_with_bom_and_crlf_is_read_by_login() {
    let app = spawn().await;
    let file = app.upload(
        REQUESTER,
        "okta-report.csv",
        fixture("okta-report-users.csv"),
    );
    app.share(REQUESTER, ASK, &[file]).await;
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*6 will reset*"), "{root}");
    assert!(root.contains("sam.seller@example.com"), "{root}");
    let targets = app.targets(&p.id).await;
    assert_eq!(targets.len(), 6);
    assert!(targets
        .iter()
        .all(|t| t.target.source.starts_with("file:okta-report.csv row ")));
}

#[tokio::test]
async fn unusable_rows_are_reported_by_number_and_the_valid_rows_go_on() {
    let app = spawn().await;
    let csv = "Username,Note\r\n\
               c01.lee@contractors.example.com,ok\r\n\
               00u123,a truncated id\r\n\
               ghost@example.com,left last year\r\n\
               C01.LEE@contractors.example.com,again\r\n\
               ,only a note\r\n\
               \"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\",formula\r\n\
               <!channel>@example.com,mention\r\n\
               c02.moss@contractors.example.com,ok\r\n";
    let file = app.upload(REQUESTER, "mixed.csv", csv);
    app.share(REQUESTER, ASK, &[file]).await;
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*2 will reset*"), "{root}");
    assert!(
        root.contains("*From `mixed.csv`:* 8 row(s); *6 could not be used*:"),
        "{root}"
    );
    for line in [
        "• row 3 (`00u123`): not an Okta user id (expected 20 letters/digits starting with 00u)",
        "• row 4 (`ghost@example.com`): no Okta user has this id, login or email",
        "• row 5 (`C01.LEE@contractors.example.com`): duplicate of row 2",
        "• row 6: no id, login or email in this row",
        "• row 7 (`=HYPERLINK(\\\"http://evil.example\\\",\\\"click\\\")`): no Okta user has this id, login or email",
        "…and 1 more (every row is in the results)",
    ] {
        assert!(root.contains(line), "{line}\n{root}");
    }
    for count in [
        "2 skipped: unusable row",
        "1 skipped: duplicate",
        "3 skipped: not found",
    ] {
        assert!(root.contains(count), "{count}: {root}");
    }
    // Every row is stored, each unusable one with its row number and reason.
    let targets = app.targets(&p.id).await;
    assert_eq!(targets.len(), 8);
    let mention = targets
        .iter()
        .find(|t| t.target.source == "file:mixed.csv row 8")
        .unwrap();
    assert_eq!(mention.target.classification, TargetClass::SkipNotFound);
    assert_eq!(
        mention.target.detail,
        "row 8: no Okta user has this id, login or email"
    );
    assert!(!app.everything_said().contains("<!channel>"));

    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*2 reset*, 6 skipped, 0 failed"),
        "{summary}"
    );
    assert!(summary.contains("unusable row"), "{summary}");
    assert_eq!(app.w.okta.reset_calls().len(), 2);
}

#[tokio::test]
async fn the_same_file_event_delivered_twice_or_retried_makes_one_request() {
    let app = spawn().await;
    let file = app.upload(
        REQUESTER,
        "users.csv",
        "Email\nc01.lee@contractors.example.com\n",
    );
    let ts = app.w.slack.next_ts();
    let d = &app.w.driver;
    let mention =
        d.event_envelope(d.app_mention(REQUESTER, "C0001", &ts, ASK, std::slice::from_ref(&file)));
    let share = d.event_envelope(d.file_share(REQUESTER, "C0001", &ts, ASK, &[file]));
    app.deliver(&mention, None).await;
    app.deliver(&mention, Some(1)).await;
    app.deliver(&share, None).await;
    app.deliver(&share, Some(2)).await;
    app.deliver(&mention, None).await;
    let p = app.wait_root().await;
    app.settle().await;
    assert_eq!(app.all_requests().await.len(), 1);
    assert_eq!(app.roots().len(), 1);
    assert_eq!(app.w.slack.api_calls("files.info"), 1);
    assert_eq!(app.w.slack.api_calls("files.download"), 1);
    let looking = app
        .w
        .slack
        .ephemerals()
        .into_iter()
        .filter(|e| e.text.starts_with("Looking up"))
        .count();
    assert_eq!(looking, 1);
    assert!(app.root_text(&p).contains("*1 will reset*"));
}

#[tokio::test]
async fn bots_edits_and_messages_that_do_not_mention_the_bot_are_ignored() {
    let app = spawn().await;
    let file = app.upload(
        REQUESTER,
        "users.csv",
        "Email\nc01.lee@contractors.example.com\n",
    );
    let d = &app.w.driver;
    let ts = app.w.slack.next_ts();
    let mut edited = d.app_mention(REQUESTER, "C0001", &ts, ASK, std::slice::from_ref(&file));
    edited["edited"] = serde_json::json!({"user": REQUESTER, "ts": "1700000001.000000"});
    let mut other_bot = d.file_share(
        REQUESTER,
        "C0001",
        &app.w.slack.next_ts(),
        ASK,
        std::slice::from_ref(&file),
    );
    other_bot["bot_id"] = serde_json::json!("B0999");
    let events = [
        d.bot_message("C0001", &app.w.slack.next_ts(), ASK),
        other_bot,
        edited,
        d.file_share(
            REQUESTER,
            "C0001",
            &app.w.slack.next_ts(),
            "here is the list for the team",
            std::slice::from_ref(&file),
        ),
        d.file_share(
            REQUESTER,
            "C0001",
            &app.w.slack.next_ts(),
            "<@U0002> have a look",
            &[file],
        ),
    ];
    for e in events {
        app.deliver(&d.event_envelope(e), None).await;
    }
    app.settle().await;
    app.assert_nothing_changed().await;
    assert!(app.w.slack.ephemerals().is_empty());
    assert_eq!(app.w.slack.api_calls("files.info"), 0);
}

#[tokio::test]
async fn a_mention_without_a_file_gets_a_hint() {
    let app = spawn().await;
    let ts = app.w.slack.next_ts();
    let d = &app.w.driver;
    app.deliver(
        &d.event_envelope(d.app_mention(REQUESTER, "C0001", &ts, ASK, &[])),
        None,
    )
    .await;
    let hint = app.ephemeral_to(REQUESTER, "share the file").await;
    assert_eq!(hint, okta_reset::service::UPLOAD_HINT);
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_file_listing_the_requesters_own_account_is_refused_like_a_typed_request() {
    // Alice without an Okta admin role: admins are protected, never among the users to reset.
    let app = spawn_with()
        .org(demo_org_without_admin_role(&["alice@example.com"]))
        .start()
        .await;
    let csv = "Email\nc01.lee@contractors.example.com\nalice@example.com\n";
    let file = app.upload(REQUESTER, "mine.csv", csv);
    app.share(REQUESTER, ASK, &[file]).await;
    let text = app.ephemeral_to(REQUESTER, "own Okta account").await;
    assert!(
        text.ends_with("was not made: Your own Okta account (alice@example.com) is among the users to reset. Ask another admin to make this request."),
        "{text}"
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}

#[tokio::test]
async fn a_dry_run_from_a_file_resolves_and_changes_nothing() {
    let app = spawn().await;
    let file = app.upload(REQUESTER, "users.csv", fixture("rockstar-export-users.csv"));
    app.share(REQUESTER, r#"<@UBOT> reason:"check" --dry-run"#, &[file])
        .await;
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*Dry run:*"), "{root}");
    assert!(!root.contains("\"action_id\":\"approve\""), "{root}");
    assert_eq!(app.record(&p.id).await.state, State::DryRun);
    app.settle().await;
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn targets_typed_next_to_the_file_join_it_and_a_user_in_both_is_reset_once() {
    let app = spawn().await;
    let csv = "Email\nc01.lee@contractors.example.com\nsam.seller@example.com\n";
    let file = app.upload(REQUESTER, "users.csv", csv);
    app.share(
        REQUESTER,
        r#"<@UBOT> user:sam.seller@example.com,pat.pitch@example.com reason:"INC-88""#,
        &[file],
    )
    .await;
    let p = app.wait_root().await;
    let root = app.root_text(&p);
    assert!(root.contains("*3 will reset*"), "{root}");
    assert!(root.contains("1 skipped: duplicate"), "{root}");
    assert!(
        root.contains(
            "`file:users.csv user:sam.seller@example.com,pat.pitch@example.com reason:INC-88`"
        ),
        "{root}"
    );
}
