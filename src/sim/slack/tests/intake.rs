//! Shared files, downloads and modals, driven by slack-morphism's client and by the bot's own
//! Slack adapter.

use serde_json::json;
use slack_morphism::prelude::*;
use url::Url;

use super::*;
use crate::secret::Secret;
use crate::slack::outbound::{DownloadError, SlackOut};

fn bot(sim: &SlackSim, token: &str) -> SlackOut {
    SlackOut::new(&Url::parse(&sim.api_url()).unwrap(), &Secret::from(token)).unwrap()
}

#[tokio::test]
async fn files_info_describes_a_file_as_slack_does() {
    let sim = sim().await;
    let f = sim.add_file("U0001", "users list.csv", "Email\na@x.com\n");
    let info = bot(&sim, sim.bot_token()).file_info(&f.id).await.unwrap();
    assert_eq!(info.name, "users list.csv");
    assert_eq!(info.filetype.as_deref(), Some("csv"));
    assert_eq!(info.mimetype.as_deref(), Some("text/csv"));
    let url = info.url_private_download.unwrap();
    assert!(url.path().ends_with("/download/users%20list.csv"), "{url}");

    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let e = client
        .open_session(&tok)
        .files_info(&SlackApiFilesInfoRequest::new("F9999999999".into()))
        .await
        .unwrap_err();
    assert_eq!(api_error(e), "file_not_found");
}

#[tokio::test]
async fn downloads_need_the_bot_token_and_answer_a_sign_in_page_without_it() {
    let sim = sim().await;
    let f = sim.add_file("U0001", "users.csv", "Email\na@x.com\n");
    let api = Url::parse(&sim.api_url()).unwrap();
    let url = Url::parse(&f.url_private_download()).unwrap();
    let bytes = bot(&sim, sim.bot_token())
        .download(&url, &api, 1024)
        .await
        .unwrap();
    assert_eq!(bytes, b"Email\na@x.com\n");
    let e = bot(&sim, "xoxb-wrong").download(&url, &api, 1024).await;
    assert!(matches!(e, Err(DownloadError::WebPage)), "{e:?}");
    let raw = reqwest::get(url.clone()).await.unwrap();
    assert_eq!(raw.status(), 200);
    assert!(raw.text().await.unwrap().contains("Sign in"));
    // The cap holds whatever the length, declared or not.
    let e = bot(&sim, sim.bot_token()).download(&url, &api, 5).await;
    assert!(matches!(e, Err(DownloadError::TooLarge(5))), "{e:?}");
    let streamed = sim.add_file_as(
        "U0001",
        "s.csv",
        "csv",
        "text/csv",
        bytes::Bytes::from(vec![b'a'; 300_000]),
        true,
    );
    let surl = Url::parse(&streamed.url_private_download()).unwrap();
    let e = bot(&sim, sim.bot_token())
        .download(&surl, &api, 100_000)
        .await;
    assert!(matches!(e, Err(DownloadError::TooLarge(100_000))), "{e:?}");
    // The token never goes to another host.
    let elsewhere = Url::parse("http://127.0.0.2:9/files-pri/x").unwrap();
    let e = bot(&sim, sim.bot_token())
        .download(&elsewhere, &api, 5)
        .await;
    assert!(matches!(e, Err(DownloadError::ForeignHost)), "{e:?}");
    // Five downloads reached the sim; the sixth never left the bot.
    assert_eq!(sim.api_calls("files.download"), 5);
}

#[tokio::test]
async fn views_open_takes_a_trigger_once() {
    let sim = sim().await;
    let view = json!({"type": "modal", "callback_id": "x", "title": {"type": "plain_text", "text": "T"},
                      "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]});
    let b = bot(&sim, sim.bot_token());
    let e = b
        .views_open("1.2.never-issued", view.clone())
        .await
        .unwrap_err();
    assert!(e.detail.contains("invalid_trigger_id"), "{e}");
    sim.issue_trigger("1.2.abc", "U0001");
    b.views_open("1.2.abc", view.clone()).await.unwrap();
    let e = b.views_open("1.2.abc", view.clone()).await.unwrap_err();
    assert!(e.detail.contains("expired_trigger_id"), "{e}");
    let views = sim.views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].user, "U0001");
    assert_eq!(views[0].view["callback_id"], "x");
}

#[tokio::test]
async fn slash_commands_hand_out_triggers_the_bot_can_open_a_modal_with() {
    let sim = sim().await;
    let driver = SlackDriver::new("http://127.0.0.1:9", "secret", "T0001").with_sim(&sim);
    let body = driver.slash_body("U0001", "C0001", "");
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap();
    let trigger = &form.iter().find(|(k, _)| k == "trigger_id").unwrap().1;
    let view = json!({"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []});
    bot(&sim, sim.bot_token())
        .views_open(trigger, view)
        .await
        .unwrap();
    assert_eq!(sim.views()[0].user, "U0001");
}

#[tokio::test]
async fn events_carry_files_the_bot_can_read_and_a_unique_event_id() {
    let sim = sim().await;
    let driver = SlackDriver::new("http://127.0.0.1:9", "secret", "T0001").with_sim(&sim);
    let f = sim.add_file("U0001", "users.csv", "a@x.com\n");
    let ts = sim.next_ts();
    let a = driver.event_envelope(driver.app_mention(
        "U0001",
        "C0001",
        &ts,
        "<@UBOT> hi",
        std::slice::from_ref(&f),
    ));
    let b = driver.event_envelope(driver.file_share("U0001", "C0001", &ts, "<@UBOT> hi", &[f]));
    assert_ne!(a["event_id"], b["event_id"]);
    assert_eq!(a["event"]["ts"], b["event"]["ts"]);
    assert_eq!(b["event"]["subtype"], "file_share");
    assert_eq!(a["event"]["files"][0]["id"], "F0000000001");
    assert_eq!(a["authorizations"][0]["user_id"], "UBOT");
}
