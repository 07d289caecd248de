//! `okta-reset bench store`: how fast each backend commits the run's journal (in-flight mark,
//! outcome, audit event per user) at the run's concurrency, beside Okta's reset budget, so the
//! store is never what limits a run.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;

use crate::domain::ids::{RequestId, SlackChannelId, SlackTeamId, SlackUserId};
use crate::domain::request::State;
use crate::store::{self, AuditEvent, NewRequest, NewTarget, Outcome, Store, TargetClass};

/// Okta's last published limit for `POST /api/v1/users/{id}*`, per minute, for context only
/// (the bot itself reads live limits from headers).
const OKTA_RESET_LIMIT_PER_MIN: f64 = 600.0;

pub struct Figures {
    pub backend: String,
    pub users: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub outcomes_per_sec: f64,
}

pub async fn run(urls: &[String], users: usize, concurrency: usize) -> anyhow::Result<String> {
    let mut out = format!(
        "Journal throughput: {users} users, concurrency {concurrency}; per user an in-flight mark, an outcome and an audit event.\n"
    );
    let okta_max = OKTA_RESET_LIMIT_PER_MIN / 60.0;
    for url in urls {
        let f = measure(url, users, concurrency).await?;
        out.push_str(&format!(
            "{:<10} {:>8.0} outcomes/s  ({:.2} s)  = {:>6.0}× Okta's published reset limit ({okta_max:.0}/s at 100% of the bucket)\n",
            f.backend,
            f.outcomes_per_sec,
            f.seconds,
            f.outcomes_per_sec / okta_max
        ));
    }
    Ok(out)
}

async fn measure(url: &str, users: usize, concurrency: usize) -> anyhow::Result<Figures> {
    let store: Arc<dyn Store> = store::open(url).await?;
    let id = format!("R-B{:07}", rand::random::<u32>() % 10_000_000);
    let targets: Vec<NewTarget> = (0..users)
        .map(|i| NewTarget {
            okta_id: Some(format!("00ubench{i:012}")),
            login: Some(format!("bench{i}@example.com")),
            source: "bench".into(),
            classification: TargetClass::Reset,
            detail: "will reset".into(),
            ..NewTarget::default()
        })
        .collect();
    store
        .create_request(
            &NewRequest {
                id: RequestId::parse(&id).expect("a valid request id"),
                team_id: SlackTeamId::parse("T0001").expect("a valid Slack team id"),
                channel_id: SlackChannelId::parse("C0001").expect("a valid Slack channel id"),
                requester: SlackUserId::parse("U0001").expect("a valid Slack user id"),
                command_text: "bench".into(),
                reason: None,
                dry_run: false,
                revoke_sessions: false,
                contain: false,
                // Inert: a bot pointed at this store would never pick it up.
                state: State::Completed,
                digest: String::new(),
                resolved_count: users as i64,
                reset_count: users as i64,
                created_at: 0,
                expires_at: 0,
            },
            &targets,
        )
        .await?;
    let started = Instant::now();
    futures::stream::iter(0..users)
        .for_each_concurrent(concurrency, |seq| {
            let store = store.clone();
            let id = id.clone();
            async move {
                let seq = seq as i64;
                store
                    .set_outcome(&id, seq, Outcome::InFlight, None, None, 1)
                    .await
                    .expect("journal write");
                store
                    .set_outcome(&id, seq, Outcome::Reset, None, Some("okta-req"), 2)
                    .await
                    .expect("journal write");
                store
                    .append_audit(&AuditEvent {
                        at: 2,
                        request_id: Some(id.clone()),
                        actor: None,
                        action: "user_outcome".into(),
                        detail: serde_json::json!({"seq": seq, "outcome": "reset"}),
                    })
                    .await
                    .expect("audit write");
            }
        })
        .await;
    let seconds = started.elapsed().as_secs_f64();
    Ok(Figures {
        backend: url.split(':').next().unwrap_or("?").to_string(),
        users,
        concurrency,
        seconds,
        outcomes_per_sec: users as f64 / seconds,
    })
}
