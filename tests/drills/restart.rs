//! Kill -9 the bot in the middle of a 2,000-user run on SQLite, restart it.

use okta_reset::sim::world::CHANNEL;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_then_restart_resets_everyone_exactly_once() {
    let sims = sims(2000, 2).await;
    let store = format!("sqlite://{}/okta-reset.db", sims.dir.path().display());
    let mut bot = sims.bot("solo", &store, 30).await;
    let r = bot
        .driver
        .slash(REQUESTER, CHANNEL, r#"group:bulk reason:"drill""#)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    sims.wait_for("the approval message", |s| !s.requests().is_empty())
        .await;
    let (id, ts) = sims.requests()[0].clone();
    bot.driver
        .click(APPROVER, CHANNEL, &ts, "approve", &id)
        .await;
    sims.wait_for("600 resets", |s| s.okta.reset_calls().len() >= 600)
        .await;

    bot.kill9();
    let at_kill = sims.okta.reset_calls().len();
    assert!(
        at_kill < 2000,
        "the run finished before the kill ({at_kill})"
    );
    bot.start().await;

    sims.wait_for("the summary", |s| {
        s.thread_texts(&ts)
            .iter()
            .any(|t| t.contains("Run complete"))
    })
    .await;
    assert_eq!(sims.okta.reset_calls().len(), 2000);
    sims.assert_each_reset_once();
    let thread = sims.thread_texts(&ts);
    let summaries: Vec<&String> = thread
        .iter()
        .filter(|t| t.contains("Run complete"))
        .collect();
    assert_eq!(summaries.len(), 1, "{thread:#?}");
    assert!(
        summaries[0].contains("2000 reset, 0 skipped, 0 failed"),
        "{}",
        summaries[0]
    );
    assert!(
        thread
            .iter()
            .any(|t| t.contains("This run was interrupted")),
        "the thread shows the interruption: {thread:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_journals_the_calls_in_flight_exits_0_and_the_run_resumes() {
    let sims = sims(1500, 5).await;
    let store = format!("sqlite://{}/okta-reset.db", sims.dir.path().display());
    let mut bot = sims.bot("term", &store, 30).await;
    bot.driver
        .slash(REQUESTER, CHANNEL, r#"group:bulk reason:"drill""#)
        .await;
    sims.wait_for("the approval message", |s| !s.requests().is_empty())
        .await;
    let (id, ts) = sims.requests()[0].clone();
    bot.driver
        .click(APPROVER, CHANNEL, &ts, "approve", &id)
        .await;
    sims.wait_for("300 resets", |s| s.okta.reset_calls().len() >= 300)
        .await;

    let status = bot.terminate();
    assert!(status.success(), "exit status {status}: {}", bot.log_text());
    let at_stop = sims.okta.reset_calls().len();
    assert!(at_stop < 1500, "finished before SIGTERM");
    // Nothing was left in flight: every call made was journalled before the exit.
    let pool = sqlx::SqlitePool::connect(&store).await.unwrap();
    let (in_flight, reset): (i64, i64) = sqlx::query_as(
        "SELECT SUM(outcome = 'in_flight'), SUM(outcome = 'reset') FROM targets WHERE request_id = ?1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(in_flight, 0);
    assert_eq!(reset as usize, at_stop);

    bot.start().await;
    sims.wait_for("the summary", |s| {
        s.thread_texts(&ts)
            .iter()
            .any(|t| t.contains("Run complete"))
    })
    .await;
    assert_eq!(sims.okta.reset_calls().len(), 1500);
    sims.assert_each_reset_once();
}

#[tokio::test]
async fn an_unreachable_database_at_start_is_a_clear_error_and_a_non_zero_exit() {
    let sims = sims(1, 0).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Nothing listens on `port` once the probe socket above is dropped.
    let url = format!("postgres://okta:s3cret@127.0.0.1:{port}/nowhere");
    let out = sims.run_to_exit("nodb", &url).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the store at postgres://okta:****@127.0.0.1"),
        "{err}"
    );
    assert!(
        !err.contains("s3cret"),
        "the password is never printed: {err}"
    );
}
