//! The external upload flow, driven by slack-morphism's client as the bot drives it.

use slack_morphism::prelude::*;

use super::*;

async fn ticket(
    session: &SlackClientSession<'_, SlackClientHyperConnector<HttpConnector>>,
    name: &str,
    len: usize,
) -> SlackApiFilesGetUploadUrlExternalResponse {
    session
        .get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
            name.to_string(),
            len,
        ))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_file_goes_into_a_thread_in_three_steps() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);
    let root = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C100".into(),
            SlackMessageContent::new().with_text("root".into()),
        ))
        .await
        .unwrap();
    let body = b"login,outcome\nann@example.com,reset\n".to_vec();
    let t = ticket(&session, "results.csv", body.len()).await;
    assert!(t
        .upload_url
        .0
        .as_str()
        .starts_with(&format!("{}/upload/v1/", sim.base_url())));
    session
        .files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(
            t.upload_url.clone(),
            body.clone(),
            "text/csv".into(),
        ))
        .await
        .unwrap();
    let done = session
        .files_complete_upload_external(
            &SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(
                t.file_id.clone(),
            )
            .with_title("Results".into())])
            .with_channel_id("C100".into())
            .with_thread_ts(root.ts.clone())
            .with_initial_comment("here".into()),
        )
        .await
        .unwrap();
    assert_eq!(done.files[0].id, t.file_id);
    let up = sim.uploads().remove(0);
    assert_eq!(up.content.as_deref(), Some(body.as_slice()));
    assert_eq!(up.title.as_deref(), Some("Results"));
    assert_eq!(up.thread_ts.as_deref(), Some(root.ts.0.as_str()));
    let share = sim.thread("C100", &root.ts.0).pop().unwrap();
    assert_eq!(Some(share.ts), up.message_ts);
    assert_eq!(share.text, "here");
    assert!(sim.transcript("C100").contains("📎 results.csv (2 lines)"));
}

#[tokio::test]
async fn uploads_are_refused_like_slack_refuses_them() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let bad = token("xoxb-wrong");
    let err = client
        .open_session(&bad)
        .get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
            "a.csv".into(),
            3,
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), "invalid_auth");

    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);
    let err = session
        .get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
            "a.csv".into(),
            0,
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), "missing_argument");

    // Completing before the bytes arrived, or with fewer bytes than announced.
    let t = ticket(&session, "a.csv", 10).await;
    let complete = |id: SlackFileId| {
        SlackApiFilesCompleteUploadExternalRequest::new(vec![SlackApiFilesComplete::new(id)])
            .with_channel_id("C100".into())
    };
    let err = session
        .files_complete_upload_external(&complete(t.file_id.clone()))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), "file_not_found");
    session
        .files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(
            t.upload_url.clone(),
            b"short".to_vec(),
            "text/csv".into(),
        ))
        .await
        .unwrap();
    let err = session
        .files_complete_upload_external(&complete(t.file_id.clone()))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), "file_not_found");

    // A failing upload host, and a queued API failure.
    sim.fail_next_upload_posts(1);
    let t = ticket(&session, "b.csv", 3).await;
    let err = session
        .files_upload_via_url(&SlackApiFilesUploadViaUrlRequest::new(
            t.upload_url.clone(),
            b"abc".to_vec(),
            "text/csv".into(),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, slack_morphism::errors::SlackClientError::HttpError(ref h) if h.status_code.as_u16() == 500),
        "{err:?}"
    );
    sim.fail_next("files.getUploadURLExternal", 1, "file_uploads_disabled");
    let err = session
        .get_upload_url_external(&SlackApiFilesGetUploadUrlExternalRequest::new(
            "c.csv".into(),
            3,
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(err), "file_uploads_disabled");
    assert!(sim.uploads().iter().all(|u| !u.completed));
    assert!(sim.messages().is_empty(), "nothing was shared");
}
