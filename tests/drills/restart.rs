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
