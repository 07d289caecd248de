//! Over real HTTP: slack-morphism's own client against the sim (`api`), and the driver against a
//! capturing stand-in for the bot (`driver`). Shared helpers live here.

use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::*;

mod api;
mod driver;
mod intake;
mod uploads;

pub(super) type Client = SlackClient<SlackClientHyperConnector<HttpConnector>>;

pub(super) fn client(api_url: &str) -> Client {
    SlackClient::new(
        SlackClientHyperConnector::with_connector(HttpConnector::new()).with_slack_api_url(api_url),
    )
}

pub(super) async fn sim() -> SlackSim {
    SlackSim::start(SlackSimConfig::demo()).await.unwrap()
}

pub(super) fn token(t: &str) -> SlackApiToken {
    SlackApiToken::new(t.to_string().into())
}

pub(super) fn decision_blocks() -> Vec<SlackBlock> {
    vec![
        SlackSectionBlock::new()
            .with_text(md!("Reset *3* users in `Sales &amp; Ops`?"))
            .into(),
        SlackActionsBlock::new(vec![
            SlackBlockButtonElement::new(pt!("Approve"))
                .with_action_id("approve".into())
                .with_value("job-1".into())
                .into(),
            SlackBlockButtonElement::new(pt!("Deny"))
                .with_action_id("deny".into())
                .with_value("job-1".into())
                .into(),
        ])
        .with_block_id("decision".into())
        .into(),
    ]
}

pub(super) fn api_error(e: SlackClientError) -> String {
    match e {
        SlackClientError::ApiError(a) => a.code,
        other => panic!("expected a Slack API error, got {other:?}"),
    }
}
