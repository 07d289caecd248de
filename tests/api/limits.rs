//! The abuse limits: requests per hour and users per day for each requester, runs in progress for
//! the org. Each refusal says when the limit lifts, is audited and changes nothing; on a manual
//! clock, the limit lifts exactly then.

use okta_reset::store::DecisionKind;
use std::time::Duration;

use okta_reset::clock::ManualClock;
use okta_reset::config::Config;
use okta_reset::domain::request::State;
use okta_reset::slack::modal::{KIND_USERS, USERS};
use okta_reset::slack::render::slack_date;
use serde_json::json;

use crate::helpers::*;
use crate::upload_helpers::*;

const HOUR: i64 = 60 * 60;

fn user(n: usize) -> String {
    // The first twelve demo contractors are ACTIVE and Okta-mastered: each is one user to reset.
    const SLUGS: [&str; 6] = ["lee", "moss", "nash", "ortiz", "park", "quinn"];
    format!("c{:02}.{}@contractors.example.com", n, SLUGS[n - 1])
}

/// Asks for user `n` alone, with `INC-n` as the reason.
fn one_user(n: usize) -> String {
    format!("user:{} reason:\"INC-{n}\"", user(n))
}

/// At most `n` requests an hour per requester (`policy.max_requests_per_hour`).
fn hourly_limit(n: usize) -> Spawn {
    spawn_with().config(move |c| c.policy.max_requests_per_hour = n)
}

/// One run in progress at a time (`policy.max_runs_in_progress` = 1), with `more` settings.
fn one_run_at_a_time(more: impl FnOnce(&mut Config) + Send + 'static) -> Spawn {
    spawn_with().config(move |c| {
        c.policy.max_runs_in_progress = 1;
        more(c);
    })
}

/// The requester cancels `p`'s run; waits until it is cancelled.
async fn cancel_run(app: &TestApp, p: &Posted) {
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    // Slack paces the bot's messages per channel, so the answer may come after the ack.
    assert!(
        ack == format!("{} is cancelled.", p.id) || ack.starts_with("Still working on it"),
        "{ack}"
    );
    app.wait_state(&p.id, State::Cancelled).await;
}

/// Two approvers approve `p` (it needs two approvals).
async fn approve_twice(app: &TestApp, p: &Posted) {
    app.click(APPROVER, p, "approve").await;
    app.wait_thread(p, "1 of 2 approvals").await;
    app.click(APPROVER_2, p, "approve").await;
}

/// Moves a manual clock on a second every 10 ms while held. The Okta pacer spreads a request's
/// calls over time and would wait for ever on a stopped clock; the tests read the times they
/// assert from the store, so they stay exact.
struct Ticking(tokio::task::JoinHandle<()>);

impl Drop for Ticking {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn ticking(clock: &ManualClock) -> Ticking {
    let clock = clock.clone();
    Ticking(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            clock.advance_secs(1);
        }
    }))
}

/// The latest `request_refused` event's detail.
async fn last_refusal(app: &TestApp) -> serde_json::Value {
    let events = app.w.app.service.store.audit_events(None).await.unwrap();
    events
        .into_iter()
        .rev()
        .find(|e| e.action == "request_refused")
        .expect("a request_refused event")
        .detail
}

#[tokio::test]
async fn the_hourly_request_limit_refuses_saying_when_it_lifts_and_lifts_then() {
    let app = hourly_limit(2).manual_clock().start().await;
    let clock = app.clock.clone().unwrap();
    // Dry runs count: they read Okta too.
    let first = app
        .request_nth(1, &format!("{} --dry-run", one_user(1)))
        .await;
    let t0 = app.record(&first.id).await.created_at;
    clock.advance_secs(10 * 60);
    app.request_nth(2, &format!("{} --dry-run", one_user(2)))
        .await;
    clock.advance_secs(10 * 60);

    let before = app.snapshot().await;
    let okta_calls = app.w.okta.stats().total_calls;
    let third = one_user(3);
    let ack = app.slash(REQUESTER, &third).await;
    assert_eq!(
        ack,
        format!(
            "You have made 2 requests in the last hour, and the limit is 2 an hour per person (`policy.max_requests_per_hour`). You can make another {}. Nothing was looked up or changed.",
            slack_date(t0 + HOUR * 1000)
        )
    );
    let audited = last_refusal(&app).await;
    assert_eq!(audited["limit"], "max_requests_per_hour");
    assert_eq!(audited["lifts_at"], json!(t0 + HOUR * 1000));
    assert_eq!(audited["why"], json!(ack));
    // A second before the first request is an hour old, still refused.
    clock.advance_secs(40 * 60 - 1);
    let again = app.slash(REQUESTER, &third).await;
    assert!(again.starts_with("You have made 2 requests"), "{again}");
    app.settle().await;
    app.assert_nothing_changed_since(&before).await;
    assert_eq!(app.w.okta.stats().total_calls, okta_calls, "Okta was asked");

    // At the hour, one more fits.
    clock.advance_secs(1);
    let p = app.request_nth(3, &third).await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
}

#[tokio::test]
async fn the_daily_user_limit_counts_what_was_asked_and_refuses_saying_when_it_lifts() {
    let app = spawn_with()
        .manual_clock()
        .config(|c| {
            c.policy.max_targets = 3;
            c.policy.max_targets_per_day = 4;
        })
        .start()
        .await;
    let clock = app.clock.clone().unwrap();
    // Three users asked, then denied: they still count (what was asked to be reset).
    let three = format!("user:{},{},{} reason:\"INC-1\"", user(1), user(2), user(3));
    let tick = ticking(&clock);
    let first = app.request_nth(1, &three).await;
    app.click(APPROVER, &first, "deny").await;
    app.wait_state(&first.id, State::Denied).await;
    let t0 = app.record(&first.id).await.created_at;
    let lifts = slack_date(t0 + 24 * HOUR * 1000);
    clock.advance_secs(HOUR);

    // Two more would make five: refused once Okta said how many they are.
    let before = app.snapshot().await;
    let two = format!("user:{},{} reason:\"INC-2\"", user(4), user(5));
    let ack = app.slash(REQUESTER, &two).await;
    let id = &ack[ack.find("R-").unwrap()..][..10];
    let msg = app.ephemeral_to(REQUESTER, "was not made").await;
    drop(tick);
    assert_eq!(
        msg,
        format!(
            "Request {id} was not made: This request would reset 2 users; with the 3 you asked to reset in the last 24 hours that is more than the limit of 4 a day per person (`policy.max_targets_per_day`). It fits from {lifts}, or split it. Nothing was posted or changed."
        )
    );
    let audited = last_refusal(&app).await;
    assert_eq!(audited["limit"], "max_targets_per_day");
    assert_eq!(audited["lifts_at"], json!(t0 + 24 * HOUR * 1000));
    app.settle().await;
    app.assert_nothing_changed_since(&before).await;

    // A dry run never counts; one more user fits exactly.
    let tick = ticking(&clock);
    app.request_nth(2, &format!("{two} --dry-run")).await;
    app.request_nth(3, &format!("user:{} reason:\"INC-3\"", user(4)))
        .await;
    drop(tick);

    // Now the day is full: refused at once, before Okta is asked anything.
    let before = app.snapshot().await;
    let okta_calls = app.w.okta.stats().total_calls;
    let one = format!("user:{} reason:\"INC-4\"", user(5));
    let ack = app.slash(REQUESTER, &one).await;
    assert_eq!(
        ack,
        format!(
            "You asked to reset 4 users in the last 24 hours, and the limit is 4 a day per person (`policy.max_targets_per_day`). You can ask for more {lifts}; a `--dry-run` is still possible. Nothing was looked up or changed."
        )
    );
    assert_eq!(
        last_refusal(&app).await["lifts_at"],
        json!(t0 + 24 * HOUR * 1000)
    );
    app.settle().await;
    app.assert_nothing_changed_since(&before).await;
    assert_eq!(app.w.okta.stats().total_calls, okta_calls, "Okta was asked");

    // A day after the first request, its three users have left the window.
    clock.advance_secs(23 * HOUR);
    let _tick = ticking(&clock);
    app.request_nth(4, &one).await;
}

#[tokio::test]
async fn the_form_and_a_shared_file_are_held_to_the_same_limits() {
    let app = hourly_limit(1).manual_clock().start().await;
    let first = app
        .request_nth(1, &format!("{} --dry-run", one_user(1)))
        .await;
    let lifts = app.record(&first.id).await.created_at + HOUR * 1000;
    let before = app.snapshot().await;
    let okta_calls = app.w.okta.stats().total_calls;

    // The form shows text as is: the time is written in UTC.
    let view = app.open_form(REQUESTER, "").await;
    let values = form_values(KIND_USERS, &[(USERS, text_value(&user(2)))], Some("INC-2"));
    let r = app.submit_form(REQUESTER, &view, values).await;
    assert_eq!(
        r.json.as_ref().unwrap()["errors"],
        json!({"kind": format!(
            "You have made 1 request in the last hour, and the limit is 1 an hour per person (“policy.max_requests_per_hour”). You can make another {}. Nothing was looked up or changed.",
            okta_reset::clock::format_utc(lifts)
        )})
    );

    // A shared file is refused before it is downloaded.
    let file = app.upload(REQUESTER, "users.csv", format!("{}\n", user(2)));
    app.share(REQUESTER, "<@UBOT> reason:\"INC-3\"", &[file])
        .await;
    let msg = app.ephemeral_to(REQUESTER, "You have made 1 request").await;
    assert!(msg.contains(&slack_date(lifts)), "{msg}");
    app.settle().await;
    app.assert_nothing_changed_since(&before).await;
    assert_eq!(app.w.okta.stats().total_calls, okta_calls, "Okta was asked");
}

#[tokio::test]
async fn approval_past_the_cap_on_runs_in_progress_is_refused_and_the_request_waits() {
    let app = one_run_at_a_time(|_| {}).start().await;
    let a = app.request_nth(1, &one_user(1)).await;
    let b = app.request_nth(2, &one_user(2)).await;
    let c = app.request_nth(3, &one_user(3)).await;
    // Okta slows to a crawl, so A's run stays in progress.
    app.w.okta.set_latency(Duration::from_secs(120));
    app.click(APPROVER, &a, "approve").await;
    app.wait_state(&a.id, State::Running).await;

    let b_root = app.root_text(&b);
    app.click(APPROVER_2, &b, "approve").await;
    let msg = app.ephemeral_to(APPROVER_2, "in progress").await;
    let expires = app.record(&b.id).await.expires_at;
    assert_eq!(
        msg,
        format!(
            "1 run is in progress ({}), the most allowed at once (`policy.max_runs_in_progress` = 1). Approve again once it has finished. {} was not approved and is still waiting for approval (until {}).",
            a.id,
            b.id,
            slack_date(expires)
        )
    );
    // Nothing changed for B: still waiting, undecided, its message and thread untouched.
    app.settle().await;
    let r = app.record(&b.id).await;
    assert_eq!((r.state, r.decision), (State::PendingApproval, None));
    assert_eq!(app.root_text(&b), b_root);
    let replies: Vec<_> = app
        .thread(&b)
        .into_iter()
        .filter(|m| m.thread_ts.is_some())
        .collect();
    assert!(replies.is_empty(), "{replies:?}");
    let b_user = app.w.okta.user_id_by_login(&user(2)).unwrap();
    assert_eq!(app.w.okta.reset_count(&b_user), 0);
    let refused = app
        .audit_events(&b.id)
        .await
        .into_iter()
        .find(|e| e.action == "decision_refused")
        .expect("the refusal is audited");
    assert_eq!(refused.actor.as_deref(), Some(APPROVER_2));
    assert!(refused.detail["why"].as_str().unwrap().contains(&a.id));

    // Once A is over, B can be approved.
    cancel_run(&app, &a).await;
    app.click(APPROVER_2, &b, "approve").await;
    app.wait_thread(&b, "Approved by <@U0003>").await;
    let r = app.record(&b.id).await;
    assert_eq!(r.decision.unwrap().decision, DecisionKind::Approved);

    // B now fills the cap; denying is never held back by it.
    app.click(APPROVER_2, &c, "deny").await;
    app.wait_state(&c.id, State::Denied).await;
}

#[tokio::test]
async fn two_requests_sent_together_never_pass_the_hourly_limit_together() {
    let app = hourly_limit(1).start().await;
    let (a, b) = (one_user(1), one_user(2));
    // Both may pass the quick check before either is stored; the check before storing, under
    // the lock, lets only one through.
    let (ack_a, ack_b) = tokio::join!(app.slash(REQUESTER, &a), app.slash(REQUESTER, &b));
    app.wait_nth_root(1).await;
    let acks = [ack_a, ack_b];
    assert!(
        acks.iter().any(|a| a.starts_with("Looking up the targets")),
        "{acks:?}"
    );
    let limit = "You have made 1 request in the last hour";
    let refused = match acks.iter().find(|a| a.starts_with(limit)) {
        // The first was stored before the second was checked: refused at once.
        Some(ack) => ack.clone(),
        // Both passed the quick check: the second is refused once resolved.
        None => app.ephemeral_to(REQUESTER, limit).await,
    };
    assert!(
        refused.ends_with("Nothing was looked up or changed.")
            || refused.ends_with("Nothing was posted or changed."),
        "{refused}"
    );
    app.settle().await;
    assert_eq!(app.all_requests().await.len(), 1);
    assert_eq!(app.roots().len(), 1);
}

#[tokio::test]
async fn a_first_of_two_approvals_past_the_cap_is_refused_and_not_recorded() {
    // Every request needs two approvals; one run at a time.
    let app = one_run_at_a_time(|c| c.policy.two_approvers_above = Some(0))
        .start()
        .await;
    let a = app.request_nth(1, &one_user(1)).await;
    let b = app.request_nth(2, &one_user(2)).await;
    app.w.okta.set_latency(Duration::from_secs(120));
    approve_twice(&app, &a).await;
    app.wait_state(&a.id, State::Running).await;

    // B's first approval is refused by the cap and not recorded: its approver can come back.
    app.click(APPROVER, &b, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "in progress").await;
    assert!(msg.contains(&format!("{} was not approved", b.id)), "{msg}");
    app.settle().await;
    assert!(app.sign_offs(&b.id).await.is_empty());
    assert_eq!(app.record(&b.id).await.state, State::PendingApproval);

    cancel_run(&app, &a).await;
    app.w.okta.set_latency(Duration::from_millis(0));
    approve_twice(&app, &b).await;
    app.wait_state(&b.id, State::Completed).await;
}

#[tokio::test]
async fn continuing_a_canary_past_the_cap_is_refused_and_the_run_stays_paused() {
    let app = one_run_at_a_time(|c| c.policy.canary_users = Some(1))
        .start()
        .await;
    // A: two users, paused after the first. B: one user, no pause, kept running by a slow Okta.
    let a = app
        .request_nth(1, &format!("user:{},{} reason:\"INC-1\"", user(1), user(2)))
        .await;
    let b = app
        .request_nth(2, &format!("user:{} reason:\"INC-2\"", user(3)))
        .await;
    app.click(APPROVER, &a, "approve").await;
    app.wait_state(&a.id, State::Paused).await;
    app.w.okta.set_latency(Duration::from_secs(120));
    app.click(APPROVER, &b, "approve").await;
    app.wait_state(&b.id, State::Running).await;

    let progress = app.wait_continue_button(&a).await;
    app.click_continue(APPROVER_2, &progress, &a).await;
    let msg = app.ephemeral_to(APPROVER_2, "in progress").await;
    assert!(
        msg.contains(&format!("{} was not continued and stays paused", a.id)),
        "{msg}"
    );
    app.settle().await;
    assert_eq!(app.record(&a.id).await.state, State::Paused);
    let second = app.w.okta.user_id_by_login(&user(2)).unwrap();
    assert_eq!(app.w.okta.reset_count(&second), 0);
}
