//! Socket Mode across Slack's `disconnect` messages and its rate limit on
//! `apps.connections.open` (Tier 1): a refresh opens the new connection before the old one
//! closes and loses no envelope; every 429 is waited out for its `Retry-After`, checked against
//! the times the simulated Slack recorded; `link_disabled` stops Socket Mode with its reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use okta_reset::sim::slack::SocketHub;
use serde_json::json;

use crate::helpers::*;
use crate::socket::{socket_app, ASK};

const OPEN: &str = "apps.connections.open";

/// Delivers an envelope the bot acks at once (an event it does not act on) every few ms until
/// `done` holds, then five more; returns every delivery's outcome.
fn keep_delivering(
    hub: Arc<SocketHub>,
    done: impl Fn(&SocketHub) -> bool + Send + 'static,
) -> tokio::task::JoinHandle<Vec<Result<(), String>>> {
    tokio::spawn(async move {
        let mut out = Vec::new();
        let mut after = 0;
        let give_up = Instant::now() + Duration::from_secs(30);
        while after < 5 && Instant::now() < give_up {
            let payload = json!({"type": "app_rate_limited", "team_id": okta_reset::sim::world::TEAM,
                                 "minute_rate_limited": 1, "api_app_id": "A0001"});
            out.push(hub.deliver("events_api", payload, 0).await.map(|_| ()));
            if done(&hub) {
                after += 1;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        out
    })
}

/// Waits for connection `n` to be the only one open.
async fn wait_replaced(app: &TestApp, n: usize) {
    app.w
        .slack
        .wait_for(&format!("connection {n} alone"), WAIT, |s| {
            s.socket().opened() == n && s.socket().open_now() == 1
        })
        .await
        .unwrap();
}

fn assert_all_delivered(results: &[Result<(), String>]) {
    let lost: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        lost.is_empty(),
        "{} of {} envelopes lost, first: {:?}",
        lost.len(),
        results.len(),
        &lost[..lost.len().min(3)]
    );
    assert!(results.len() >= 5, "{} deliveries", results.len());
}

#[tokio::test]
async fn a_refresh_opens_the_new_connection_before_closing_the_old_and_loses_no_envelope() {
    let app = socket_app().await;
    let hub = app.w.slack.socket();
    for (n, reason) in [(2, "refresh_requested"), (3, "warning")] {
        let stream = keep_delivering(hub.clone(), move |h| h.opened() == n && h.open_now() == 1);
        hub.disconnect(reason);
        wait_replaced(&app, n).await;
        assert_all_delivered(&stream.await.unwrap());
        assert_eq!(hub.gaps(), 0, "{reason}: a moment with no connection open");
    }
    assert_eq!(app.w.slack.api_calls(OPEN), 3);
    // The newest connection carries a whole request.
    let p = app.request(ASK).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert!(app.w.slack.retry_after_violations().is_empty());
}

#[tokio::test]
async fn a_dropped_socket_waits_out_retry_after_on_every_429_of_apps_connections_open() {
    let app = socket_app().await;
    let slack = &app.w.slack;
    slack.rate_limit_next(OPEN, 2, 2);
    slack.socket().drop_connections();
    wait_replaced(&app, 2).await;
    let times = slack.call_times(OPEN);
    assert_eq!(
        times.len(),
        4,
        "the first, two refused, the one that worked"
    );
    for (i, w) in times[1..].windows(2).enumerate() {
        assert!(
            w[1] - w[0] >= Duration::from_secs(2),
            "retry {i} came {:?} after a 429 with Retry-After: 2",
            w[1] - w[0]
        );
    }
    assert_eq!(slack.retry_after_violations(), Vec::<String>::new());
    let p = app.request(ASK).await;
    assert!(app.root_text(&p).contains("*28 will reset*"));
}

#[tokio::test]
async fn a_refresh_refused_with_429_keeps_serving_on_the_old_connection_until_retry_after() {
    let app = socket_app().await;
    let slack = &app.w.slack;
    let hub = slack.socket();
    slack.rate_limit_next(OPEN, 1, 2);
    let stream = keep_delivering(hub.clone(), |h| h.opened() == 2 && h.open_now() == 1);
    hub.disconnect("refresh_requested");
    wait_replaced(&app, 2).await;
    let results = stream.await.unwrap();
    assert_all_delivered(&results);
    let times = slack.call_times(OPEN);
    assert_eq!(times.len(), 3);
    assert!(times[2] - times[1] >= Duration::from_secs(2), "{times:?}");
    assert_eq!(slack.retry_after_violations(), Vec::<String>::new());
    assert_eq!(hub.gaps(), 0);
}

#[tokio::test]
async fn refreshes_faster_than_tier_1_allows_are_spaced_by_retry_after() {
    let app = socket_app().await;
    let slack = &app.w.slack;
    let hub = slack.socket();
    // Two calls in any 3 s: the third refresh in a row meets a 429.
    slack.limit_calls(OPEN, 2, Duration::from_secs(3));
    for n in 2..=4 {
        hub.disconnect("refresh_requested");
        wait_replaced(&app, n).await;
    }
    let times = slack.call_times(OPEN);
    assert!(times.len() > 4, "no call was refused: {times:?}");
    assert_eq!(slack.retry_after_violations(), Vec::<String>::new());
    assert_eq!(hub.gaps(), 0);
}

#[tokio::test]
async fn link_disabled_stops_socket_mode_with_its_reason_and_no_reconnect() {
    let app = socket_app().await;
    let hub = app.w.slack.socket();
    let mut halted = app.w.app.halted();
    hub.disconnect("link_disabled");
    let why = tokio::time::timeout(WAIT, halted.wait_for(Option::is_some))
        .await
        .expect("the bot stops")
        .unwrap()
        .clone();
    assert_eq!(
        why.as_deref(),
        Some(okta_reset::slack::socket::LINK_DISABLED)
    );
    // Long enough for any reconnect: the bot used to try at once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        app.w.slack.api_calls(OPEN),
        1,
        "no new connection asked for"
    );
    assert_eq!((hub.opened(), hub.open_now()), (1, 0));
}
