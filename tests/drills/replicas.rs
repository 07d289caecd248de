//! Two replicas on one PostgreSQL store.

use std::time::Duration;

use okta_reset::sim::world::CHANNEL;
use okta_reset::store::{scratch_schema_url, test_server_url};

use crate::harness::*;

async fn lease_owner(url: &str, id: &str) -> Option<String> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let owner: Option<String> =
        sqlx::query_scalar("SELECT lease_owner FROM requests WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    owner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_replica_that_holds_the_run_hands_it_to_the_other() {
    let sims = sims(2000, 2).await;
    let url = scratch_schema_url(&test_server_url()).await.unwrap();
    let mut a = sims.bot("a", &url, 3).await;
    let mut b = sims.bot("b", &url, 3).await;
    a.driver
        .slash(REQUESTER, CHANNEL, r#"group:bulk reason:"drill""#)
        .await;
    sims.wait_for("the approval message", |s| !s.requests().is_empty())
        .await;
    let (id, ts) = sims.requests()[0].clone();
    b.driver.click(APPROVER, CHANNEL, &ts, "approve", &id).await;
    sims.wait_for("500 resets", |s| s.okta.reset_calls().len() >= 500)
        .await;

    let owner = lease_owner(&url, &id)
        .await
        .expect("a replica holds the run");
    let holder = if owner.starts_with(&format!("replica-{}-", a.pid())) {
        &mut a
    } else {
        assert!(
            owner.starts_with(&format!("replica-{}-", b.pid())),
            "{owner}"
        );
        &mut b
    };
    holder.kill9();
    assert!(
        sims.okta.reset_calls().len() < 2000,
        "finished before the kill"
    );

    sims.wait_for("the summary", |s| {
        s.thread_texts(&ts)
            .iter()
            .any(|t| t.contains("Run complete"))
    })
    .await;
    assert_eq!(sims.okta.reset_calls().len(), 2000);
    sims.assert_each_reset_once();
    let thread = sims.thread_texts(&ts);
    assert_eq!(
        thread.iter().filter(|t| t.contains("Run complete")).count(),
        1
    );
    assert!(thread
        .iter()
        .any(|t| t.contains("This run was interrupted")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_approval_clicked_on_both_replicas_at_once_decides_once_fifty_times() {
    let sims = sims(50, 0).await;
    let url = scratch_schema_url(&test_server_url()).await.unwrap();
    let a = sims.bot("a", &url, 5).await;
    let b = sims.bot("b", &url, 5).await;
    for i in 0..50 {
        let text = format!(r#"user:bulk{i:06}@bench.example.com reason:"drill {i}""#);
        let r = a
            .driver
            .slash(REQUESTER, CHANNELS[i % CHANNELS.len()], &text)
            .await;
        assert_eq!(r.status, 200);
    }
    sims.wait_for("50 approval messages", |s| s.requests().len() == 50)
        .await;
    let requests = sims.requests_in_channels();
    let clicks = requests.iter().map(|(id, ts, ch)| async {
        tokio::join!(
            a.driver.click(APPROVER, ch, ts, "approve", id),
            b.driver.click(APPROVER_2, ch, ts, "approve", id),
        )
    });
    futures::future::join_all(clicks).await;
    let done = |s: &Sims| {
        requests.iter().all(|(_, ts, ch)| {
            s.thread_texts_in(ch, ts)
                .iter()
                .any(|t| t.contains("Run complete"))
        })
    };
    sims.wait_for("50 summaries", done).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sims.okta.reset_calls().len(), 50, "one run per request");
    sims.assert_each_reset_once();
    for (_, ts, ch) in &requests {
        let n = sims
            .thread_texts_in(ch, ts)
            .iter()
            .filter(|t| t.contains("Run complete"))
            .count();
        assert_eq!(n, 1);
    }
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let decisions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM decisions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(decisions, 50, "one decision per request");
    let refused: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'decision_refused'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        refused, 50,
        "the other click was told it was already decided"
    );
}
