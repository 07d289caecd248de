//! Limits that could be walked around (issue 13, point 4): a request past `policy.max_targets`
//! stops reading Okta at once, and every request that reached Okta counts towards
//! `policy.max_requests_per_hour`, refused or not.

use crate::helpers::*;

const CONTRACTORS: &str = r#"group:contractors reason:"INC-4312 phishing""#;

/// Okta calls (group lookup, member pages, protection reads) made by one request
/// for the contractors group (40 members, pages of 5), with `policy.max_targets` = `max`.
async fn member_page_calls(max: usize) -> (u64, TestApp) {
    let app = spawn_with()
        .okta_pages_of(5)
        .config(move |c| c.policy.max_targets = max)
        .start()
        .await;
    let before = app.w.okta.stats().total_calls;
    app.slash(REQUESTER, CONTRACTORS).await;
    (before, app)
}

#[tokio::test]
async fn a_request_past_max_targets_stops_paging_at_once() {
    // Past 10 after the third page of 5: the five pages after it are never asked for.
    let (before, app) = member_page_calls(10).await;
    let msg = app.ephemeral_to(REQUESTER, "more than the limit").await;
    assert!(
        msg.contains("reaches at least 15 users, more than the limit of 10"),
        "{msg}"
    );
    app.settle().await;
    let refused = app.w.okta.stats().total_calls - before;
    app.assert_nothing_changed().await;
    // The same request within the limit reads all eight pages (and the same protection reads).
    let (before, app) = member_page_calls(100).await;
    app.wait_root().await;
    app.settle().await;
    let accepted = app.w.okta.stats().total_calls - before;
    assert_eq!(accepted - refused, 5, "{accepted} calls against {refused}");
}

#[tokio::test]
async fn requests_refused_after_the_okta_lookup_count_towards_the_hourly_limit() {
    let app = spawn_with()
        .config(|c| {
            c.policy.max_targets = 10;
            c.policy.max_requests_per_hour = 2;
        })
        .start()
        .await;
    for n in 1..=2 {
        app.slash(REQUESTER, CONTRACTORS).await;
        app.w
            .slack
            .wait_for("a refusal", WAIT, |s| {
                s.ephemerals()
                    .iter()
                    .filter(|e| e.text.contains("more than the limit of 10"))
                    .count()
                    >= n
            })
            .await
            .unwrap();
    }
    app.settle().await;
    let calls = app.w.okta.stats().total_calls;
    // The third is refused at once, before Okta is asked anything.
    let ack = app.slash(REQUESTER, CONTRACTORS).await;
    assert!(
        ack.starts_with("You have made 2 requests in the last hour")
            && ack.ends_with("Nothing was looked up or changed."),
        "{ack}"
    );
    app.settle().await;
    assert_eq!(app.w.okta.stats().total_calls, calls, "Okta was asked");
    app.assert_nothing_changed().await;
}
