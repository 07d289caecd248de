//! `okta-reset bench lookups`: issue 12's ordinary use — dry runs of mixed kinds (a group by
//! name, a group by id, named users, a search) at one every 2 s against the simulated org with
//! Okta's default limits and 40 ms latency — and the time from each command to its approval
//! message. Prints figures; asserts nothing (the test that fails if lookups stall again is
//! `tests/api/lookup_pacing.rs`).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::load::pct;
use crate::sim::okta::{OktaSimConfig, SimOrg};
use crate::sim::world::{World, WorldOptions, CHANNEL, REQUESTER};

pub struct LookupOptions {
    pub count: usize,
    pub every: Duration,
    pub latency: Duration,
}

impl Default for LookupOptions {
    fn default() -> Self {
        Self {
            count: 60,
            every: Duration::from_secs(2),
            latency: Duration::from_millis(40),
        }
    }
}

/// The commands, in turn: every kind of lookup, groups up to 1,000 members.
fn kinds(w: &World) -> anyhow::Result<Vec<(&'static str, String)>> {
    let id = |name: &str| {
        w.okta
            .group_ids_named(name)
            .into_iter()
            .next()
            .with_context(|| format!("group {name}"))
    };
    Ok(vec![
        ("group by name, 1,000", "group:g1000".to_string()),
        ("group by id, 300", format!("group:{}", id("g300")?)),
        (
            "users",
            "user:c01.lee@contractors.example.com,sam.seller@example.com,g50000007@bench.example.com"
                .to_string(),
        ),
        (
            "search",
            r#"search:'profile.department eq "Sales"'"#.to_string(),
        ),
        ("group by name, 50", "group:g50".to_string()),
        ("group by id, 1,000", format!("group:{}", id("g1000")?)),
    ])
}

pub async fn run(opts: LookupOptions) -> anyhow::Result<String> {
    let org = SimOrg::demo()
        .with_generated_group("g50", 50)
        .with_generated_group("g300", 300)
        .with_generated_group("g1000", 1000);
    let w = Arc::new(
        World::start(WorldOptions {
            org,
            okta: OktaSimConfig {
                latency: opts.latency,
                jitter: opts.latency / 4,
                seed: 12,
                ..OktaSimConfig::default()
            },
            tweak: Box::new(|c| {
                c.policy.max_requests_per_hour = 1000;
            }),
            ..WorldOptions::default()
        })
        .await?,
    );
    let kinds = kinds(&w)?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..opts.count {
        let at = started + opts.every * i as u32;
        tokio::time::sleep_until(at.into()).await;
        let (kind, target) = kinds[i % kinds.len()].clone();
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let text = format!(r#"{target} reason:"bench {i}" --dry-run"#);
            let ack = w.driver.slash(REQUESTER, CHANNEL, &text).await;
            let said = ack
                .json
                .as_ref()
                .and_then(|j| j["text"].as_str())
                .unwrap_or_default()
                .to_string();
            let at = said
                .find("R-")
                .with_context(|| format!("no request id in {said:?}"))?;
            let id = said[at..at + 10].to_string();
            loop {
                let posted = w
                    .slack
                    .messages()
                    .iter()
                    .any(|m| m.thread_ts.is_none() && m.text.contains(&id));
                if posted {
                    return anyhow::Ok((kind, sent.elapsed()));
                }
                if let Some(e) = w.slack.ephemerals().iter().find(|e| e.text.contains(&id)) {
                    anyhow::bail!("{id} was refused: {}", e.text);
                }
                anyhow::ensure!(
                    sent.elapsed() < Duration::from_secs(180),
                    "no approval message for {id}"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let mut all = Vec::new();
    let mut by_kind: Vec<(&str, Vec<Duration>)> = Vec::new();
    for t in tasks {
        let (kind, d) = t.await??;
        all.push(d);
        match by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, v)) => v.push(d),
            None => by_kind.push((kind, vec![d])),
        }
    }
    let okta = w.app.okta.stats();
    let sim = w.okta.stats();
    let s = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let mut out = String::new();
    all.sort();
    writeln!(
        out,
        "{} lookups, one every {:?}, Okta latency {:?}, Okta's default limits (60 s windows)",
        all.len(),
        opts.every,
        opts.latency
    )?;
    writeln!(
        out,
        "command → approval message: p50 {}  p99 {}  max {}",
        s(pct(&all, 0.5)),
        s(pct(&all, 0.99)),
        s(*all.last().unwrap_or(&Duration::ZERO))
    )?;
    for (kind, mut v) in by_kind {
        v.sort();
        writeln!(
            out,
            "  {kind:<22} n={:<3} p50 {}  max {}",
            v.len(),
            s(pct(&v, 0.5)),
            s(*v.last().unwrap_or(&Duration::ZERO))
        )?;
    }
    writeln!(
        out,
        "Okta calls {}, calls that waited for a rate-limit window {}, 429s {} (of which concurrency {})",
        okta.calls,
        okta.window_waits,
        sim.rate_limited + sim.concurrency_limited,
        sim.concurrency_limited
    )?;
    Ok(out)
}
