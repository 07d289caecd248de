//! Every bad upload gets a clear answer, shown only to the person who shared it, and changes
//! nothing: no request, no message in the channel, no reset.

use bytes::Bytes;

use crate::helpers::*;

const ASK: &str = r#"<@UBOT> reason:"INC-88""#;
const SAVE_AS_CSV: &str = "not a CSV file: save it as CSV (in a spreadsheet: File → Save As → “CSV UTF-8”) and share that file instead.";

/// Shares one file with `ASK` and returns the answer the requester got.
async fn refused(app: &TestApp, name: &str, bytes: impl Into<Vec<u8>>, needle: &str) -> String {
    let file = app.upload(REQUESTER, name, bytes);
    app.share(REQUESTER, ASK, &[file]).await;
    let text = app.ephemeral_to(REQUESTER, needle).await;
    app.settle().await;
    app.assert_nothing_changed().await;
    text
}

#[tokio::test]
async fn a_spreadsheet_is_refused_before_download_with_save_it_as_csv() {
    let app = spawn().await;
    let text = refused(
        &app,
        "users.xlsx",
        b"PK\x03\x04\x14\x00\x06\x00".to_vec(),
        "users.xlsx",
    )
    .await;
    assert_eq!(
        text,
        format!("`users.xlsx` is a spreadsheet (Excel, Numbers or OpenDocument), {SAVE_AS_CSV}")
    );
    assert_eq!(app.w.slack.api_calls("files.download"), 0);
    app.assert_okta_untouched();
}

#[tokio::test]
async fn an_image_is_refused_with_save_it_as_csv() {
    let app = spawn().await;
    let text = refused(
        &app,
        "screenshot.png",
        b"\x89PNG\r\n\x1a\n".to_vec(),
        "screenshot",
    )
    .await;
    assert_eq!(text, format!("`screenshot.png` is an image, {SAVE_AS_CSV}"));
}

#[tokio::test]
async fn a_spreadsheet_named_csv_is_caught_by_its_content() {
    let app = spawn().await;
    let file = app.w.slack.add_file_as(
        REQUESTER,
        "users.csv",
        "csv",
        "text/csv",
        Bytes::from_static(b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml"),
        false,
    );
    app.share(REQUESTER, ASK, &[file]).await;
    let text = app.ephemeral_to(REQUESTER, "users.csv").await;
    assert_eq!(
        text,
        format!("`users.csv` is a spreadsheet (Excel, Numbers or OpenDocument), {SAVE_AS_CSV}")
    );
    app.assert_nothing_changed().await;
    app.assert_okta_untouched();
}

#[tokio::test]
async fn utf16_text_is_refused_with_save_as_csv_utf8() {
    let app = spawn().await;
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "Email\r\na@x.com\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let text = refused(&app, "export.txt", utf16, "export.txt").await;
    assert_eq!(
        text,
        "`export.txt` is saved as UTF-16 text (Excel's “Unicode Text”): save it as CSV UTF-8 and share that file instead."
    );
}

#[tokio::test]
async fn a_file_over_5_mib_is_refused_and_the_bot_stops_reading_it() {
    let app = spawn().await;
    const TOO_BIG: &str =
        "`big.csv` is larger than 5 MiB, the most the bot reads: split it into smaller files.";
    // Served without a length: the bot must count and stop.
    let huge = Bytes::from("c01.lee@contractors.example.com\n".repeat(2_000_000));
    let streamed =
        app.w
            .slack
            .add_file_as(REQUESTER, "big.csv", "csv", "text/csv", huge.clone(), true);
    app.share(REQUESTER, ASK, std::slice::from_ref(&streamed))
        .await;
    assert_eq!(app.ephemeral_to(REQUESTER, "big.csv").await, TOO_BIG);
    app.settle().await;
    assert!(
        streamed.served_bytes() < huge.len() / 2,
        "the sim sent {} of {} bytes",
        streamed.served_bytes(),
        huge.len()
    );
    // With a declared length over the cap, nothing past the headers is read.
    let declared = app.upload(REQUESTER, "big.csv", vec![b'a'; 6 * 1024 * 1024]);
    app.share(REQUESTER, ASK, &[declared]).await;
    app.settle().await;
    let answers = app
        .w
        .slack
        .ephemerals()
        .into_iter()
        .filter(|e| e.text == TOO_BIG)
        .count();
    assert_eq!(answers, 2);
    app.assert_nothing_changed().await;
    app.assert_okta_untouched();
}

#[tokio::test]
async fn more_rows_than_max_targets_are_refused_before_any_okta_call() {
    let app = spawn_with()
        .config(|c| c.policy.max_targets = 3)
        .start()
        .await;
    let csv = "Email\na@x.com\nb@x.com\nc@x.com\nd@x.com\n";
    let text = refused(&app, "four.csv", csv, "four.csv").await;
    assert_eq!(
        text,
        "`four.csv` lists 4 users, more than the limit of 3. Split it, or ask an administrator to raise `policy.max_targets`."
    );
    app.assert_okta_untouched();
}

#[tokio::test]
async fn a_csv_with_no_recognisable_column_is_refused() {
    let app = spawn().await;
    let text = refused(
        &app,
        "people.csv",
        "Full name;Department\nDana Lee;IT\n",
        "people.csv",
    )
    .await;
    assert_eq!(
        text,
        "`people.csv` has no column the bot can use (its first row is `Full name`, `Department`). Head a column `login`, `email` or `id` (Rockstar's `User Id` and Okta reports' `Username` or `Primary email` work too), or list only logins, emails or Okta user ids, one per line, without a header."
    );
    app.assert_okta_untouched();
}

#[tokio::test]
async fn a_csv_whose_every_row_is_invalid_is_refused_with_the_reasons() {
    let app = spawn().await;
    let csv = "User Id,Username,First name\n00u123,,A\n,,B\n00u1a2b3c4d5e6f7g8h9X,,C\n";
    let text = refused(&app, "bad.csv", csv, "bad.csv").await;
    assert_eq!(
        text,
        "None of the 3 row(s) of `bad.csv` can be used: row 2 (`00u123`): not an Okta user id (expected 20 letters/digits starting with 00u); row 3: no id, login or email in this row; row 4 (`00u1a2b3c4d5e6f7g8h9X`): not an Okta user id (expected 20 letters/digits starting with 00u). Nothing was posted or changed."
    );
    app.assert_okta_untouched();
}

#[tokio::test]
async fn a_csv_naming_nobody_in_okta_is_refused_with_the_rows() {
    let app = spawn().await;
    let csv = "<!channel>@example.com\nghost@example.com\n";
    let text = refused(&app, "ghosts.csv", csv, "Nothing to reset").await;
    assert!(
        text.ends_with(
            "was not made: Nothing to reset from `ghosts.csv`: 2 skipped: not found. row 1 (`&lt;!channel&gt;@example.com`): no Okta user has this id, login or email; row 2 (`ghost@example.com`): no Okta user has this id, login or email"
        ),
        "{text}"
    );
    assert!(!app.everything_said().contains("<!channel>"));
}

#[tokio::test]
async fn a_file_shared_in_a_channel_that_is_not_allowed_is_refused_unread() {
    let app = spawn().await;
    let file = app.upload(
        REQUESTER,
        "users.csv",
        "Email\nc01.lee@contractors.example.com\n",
    );
    app.share_in(REQUESTER, "C0999", ASK, &[file]).await;
    let text = app.ephemeral_to(REQUESTER, "channel").await;
    assert_eq!(
        text,
        "Password resets can't be requested in this channel. Use one of: <#C0001>."
    );
    app.settle().await;
    app.assert_nothing_changed().await;
    assert_eq!(app.w.slack.api_calls("files.info"), 0);
}

#[tokio::test]
async fn a_file_shared_by_someone_not_on_the_allowlist_is_refused_unread() {
    let app = spawn().await;
    let file = app.upload(
        OUTSIDER,
        "users.csv",
        "Email\nc01.lee@contractors.example.com\n",
    );
    app.share(OUTSIDER, ASK, &[file]).await;
    let text = app.ephemeral_to(OUTSIDER, "list").await;
    assert_eq!(
        text,
        "You are not on the list of people who may request password resets. Ask an okta-reset administrator to add your Slack user ID (U0004)."
    );
    app.settle().await;
    app.assert_nothing_changed().await;
    assert_eq!(app.w.slack.api_calls("files.info"), 0);
}

#[tokio::test]
async fn a_missing_reason_two_files_or_unreadable_words_are_refused() {
    let app = spawn().await;
    let csv = "Email\nc01.lee@contractors.example.com\n";
    let one = app.upload(REQUESTER, "a.csv", csv);
    let two = app.upload(REQUESTER, "b.csv", csv);
    app.share(REQUESTER, "<@UBOT>", std::slice::from_ref(&one))
        .await;
    assert_eq!(
        app.ephemeral_to(REQUESTER, "reason").await,
        "A reason is required: add `reason:\"…\"` (for example an incident number)."
    );
    app.share(REQUESTER, ASK, &[one.clone(), two]).await;
    assert_eq!(
        app.ephemeral_to(REQUESTER, "one file").await,
        "Share one file per request; this message has 2."
    );
    app.share(REQUESTER, "<@UBOT> please reset these reason:x", &[one])
        .await;
    let text = app.ephemeral_to(REQUESTER, "not understood").await;
    assert!(
        text.starts_with(
            "The message next to the file was not understood: I don't understand `please`"
        ),
        "{text}"
    );
    assert!(text.ends_with(okta_reset::service::UPLOAD_HINT), "{text}");
    app.settle().await;
    app.assert_nothing_changed().await;
    assert_eq!(app.w.slack.api_calls("files.info"), 0);
}

#[tokio::test]
async fn a_file_slack_cannot_find_is_refused() {
    let app = spawn().await;
    let file = app.upload(
        REQUESTER,
        "users.csv",
        "Email\nc01.lee@contractors.example.com\n",
    );
    app.w.slack.fail_next("files.info", 1, "file_not_found");
    app.share(REQUESTER, ASK, &[file]).await;
    let text = app.ephemeral_to(REQUESTER, "looked up").await;
    assert!(
        text.starts_with("The file could not be looked up in Slack (")
            && text.contains("file_not_found")
            && text.ends_with("Nothing was changed; share it again, or ask an okta-reset administrator to check the app's `files:read` scope."),
        "{text}"
    );
    app.settle().await;
    app.assert_nothing_changed().await;
}
