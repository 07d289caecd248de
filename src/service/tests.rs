//! The application layer on in-memory fakes of Okta and Slack (`fakes.rs`): what a request does
//! before any HTTP would matter.

use std::sync::Arc;
use std::time::Duration;

use super::fakes::{self, FakeOkta, FakeSlack, Said};
use super::SlashCommand;
use crate::clock::ManualClock;
use crate::domain::ids::{SlackChannelId, SlackTeamId, SlackUserId};
use crate::sim::world::{CHANNEL, REQUESTER, TEAM};

fn command(user: &str, text: &str) -> SlashCommand {
    SlashCommand {
        team: SlackTeamId::parse(TEAM).unwrap(),
        channel: SlackChannelId::parse(CHANNEL).unwrap(),
        user: SlackUserId::parse(user).unwrap(),
        text: text.into(),
        trigger_id: String::new(),
    }
}

/// What Slack was asked to say once something was, waiting for the request's task.
async fn first_said(slack: &FakeSlack) -> Vec<Said> {
    for _ in 0..100 {
        let said = slack.said();
        if !said.is_empty() {
            return said;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("Slack was never spoken to");
}

#[tokio::test]
async fn a_guest_requester_is_told_privately_and_okta_is_never_asked() {
    let okta =
        Arc::new(FakeOkta::default().with_user("00u1", "dana@example.com", "dana@example.com"));
    let slack = Arc::new(FakeSlack::default().with_guest(REQUESTER, "ann@example.com"));
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let svc = fakes::service(okta.clone(), slack.clone(), clock, &dir, |_| {}).await;

    let ack = svc
        .on_slash(command(
            REQUESTER,
            r#"user:dana@example.com reason:"INC-1 guest""#,
        ))
        .await;
    let id = ack
        .strip_prefix("Looking up the targets in Okta for request ")
        .and_then(|rest| rest.strip_suffix('…'))
        .unwrap_or_else(|| panic!("not accepted for lookup: {ack}"))
        .to_string();

    // The refusal is an ephemeral to the requester only: nothing is posted in the channel.
    assert_eq!(
        first_said(&slack).await,
        vec![Said::Ephemeral {
            channel: CHANNEL.into(),
            user: REQUESTER.into(),
            text: format!(
                "Request {id} was not made: guest, bot and deactivated Slack accounts cannot request resets."
            ),
        }]
    );
    // Refused before the lookup: Okta was not asked, and no request exists.
    assert!(okta.calls.lock().unwrap().is_empty());
    assert!(svc.store.get_request(&id).await.unwrap().is_none());
    let actions: Vec<String> = svc
        .store
        .audit_events(Some(&id))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["request_received", "request_refused"]);
}
