//! PostgreSQL unreachable for 20 s in the middle of a run. The outage is made by cutting a TCP
//! proxy between the bot and the real server, not by stopping the server: the other tests
//! running meanwhile use the same server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use okta_reset::sim::world::CHANNEL;
use okta_reset::store::{scratch_schema_url, test_server_url};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::*;

struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (d, l) = (down.clone(), links.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let upstream = upstream.clone();
                l.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                }));
            }
        });
        Proxy { port, down, links }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for h in self.links.lock().unwrap().drain(..) {
            h.abort();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_for_20_s_mid_run_pauses_the_run_and_loses_nothing() {
    let sims = sims(1000, 5).await;
    let direct = scratch_schema_url(&test_server_url()).await.unwrap();
    let proxy = Proxy::start("127.0.0.1:5432".into()).await;
    let via_proxy = direct.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port), 1);
    assert_ne!(direct, via_proxy);
    let bot = sims.bot("pg", &via_proxy, 30).await;
    bot.driver
        .slash(REQUESTER, CHANNEL, r#"group:bulk reason:"drill""#)
        .await;
    sims.wait_for("the approval message", |s| !s.requests().is_empty())
        .await;
    let (id, ts) = sims.requests()[0].clone();
    bot.driver
        .click(APPROVER, CHANNEL, &ts, "approve", &id)
        .await;
    sims.wait_for("200 resets", |s| s.okta.reset_calls().len() >= 200)
        .await;

    proxy.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let early = sims.okta.reset_calls().len();
    tokio::time::sleep(Duration::from_secs(18)).await;
    let late = sims.okta.reset_calls().len();
    assert_eq!(
        early, late,
        "no Okta call without a journal entry while the store is away"
    );
    assert!(late < 1000, "the run finished before the outage");
    proxy.restore();

    sims.wait_for("the summary", |s| {
        s.thread_texts(&ts)
            .iter()
            .any(|t| t.contains("Run complete"))
    })
    .await;
    assert_eq!(sims.okta.reset_calls().len(), 1000);
    sims.assert_each_reset_once();
    let summary = sims
        .thread_texts(&ts)
        .into_iter()
        .find(|t| t.contains("Run complete"))
        .unwrap();
    assert!(
        summary.contains("1000 reset, 0 skipped, 0 failed"),
        "{summary}"
    );
    assert!(
        bot.log_text().contains("the store is unreachable"),
        "the pause is logged"
    );
}
