//! `okta-reset bench okta`: the real engine (bot, runner, Okta client, pacer, SQLite store) against the
//! simulated org, with the figures issue 3 asks for, next to the seed workaround's behaviour (a
//! sequential loop, one call at a time, no retry) on the same simulator. Each scenario runs in its
//! own child process so its peak RSS is its own (the simulator runs in that process too).
//! Prints figures; asserts nothing. Not part of `cargo test` or CI.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::domain::request::State;
use crate::service::resolve::{resolve, ResolveSettings};
use crate::sim::okta::{Bucket, BucketLimits, OktaSim, OktaSimConfig, SimOrg};
use crate::sim::world::{World, WorldOptions, APPROVER, CHANNEL, REQUESTER};

pub const SCENARIOS: [&str; 4] = ["limit100", "limit1000", "contended", "resolve100k"];

struct Scenario {
    users: usize,
    limit: u32,
    window: Duration,
    concurrency: usize,
    error_rate: f64,
    /// Share of the limit another client spends.
    other_share: f64,
}

fn scenario(name: &str) -> Option<Scenario> {
    let base = Scenario {
        users: 1000,
        limit: 100,
        window: Duration::from_secs(10),
        concurrency: 8,
        error_rate: 0.0,
        other_share: 0.0,
    };
    Some(match name {
        "limit100" => base,
        "limit1000" => Scenario {
            limit: 1000,
            concurrency: 16,
            ..base
        },
        "contended" => Scenario {
            limit: 1000,
            concurrency: 16,
            error_rate: 0.10,
            other_share: 0.30,
            ..base
        },
        _ => return None,
    })
}

fn sim_config(s: &Scenario) -> OktaSimConfig {
    OktaSimConfig {
        window: s.window,
        limits: BucketLimits::uniform(s.limit),
        latency: Duration::from_millis(150),
        jitter: Duration::from_millis(50),
        error_rate_5xx: s.error_rate,
        seed: 42,
        ..OktaSimConfig::default()
    }
}

/// Peak resident set of this process (Linux `VmHWM`), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Another client spending `share` of the reset bucket, evenly, until dropped.
fn other_client(sim: &OktaSim, s: &Scenario) -> Option<tokio::task::JoinHandle<()>> {
    if s.other_share <= 0.0 {
        return None;
    }
    let per_tick =
        (s.limit as f64 * s.other_share / (s.window.as_secs_f64() * 10.0)).round() as u32;
    let sim = sim.clone();
    Some(tokio::spawn(async move {
        loop {
            sim.consume_budget(Bucket::UsersPost, per_tick);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }))
}

/// One scenario, in this process; prints one line of JSON for the parent.
pub async fn run_one(name: &str) -> anyhow::Result<()> {
    if name == "resolve100k" {
        return resolve_100k().await;
    }
    let s = scenario(name).context("unknown scenario")?;
    let org = SimOrg::new().with_generated_group("bench", s.users);
    let (concurrency, share) = (s.concurrency, 0.8);
    let w = World::start(WorldOptions {
        org: org.clone(),
        okta: sim_config(&s),
        tweak: Box::new(move |c| {
            c.okta.concurrency = concurrency;
            c.okta.max_share = share;
            c.okta.call_timeout_secs = 10;
            c.policy.max_targets = 100_000;
        }),
        ..WorldOptions::default()
    })
    .await?;
    let ack = w
        .driver
        .slash(REQUESTER, CHANNEL, r#"group:bench reason:"bench""#)
        .await;
    anyhow::ensure!(ack.status == 200, "slash answered {}", ack.status);
    w.slack
        .wait_for("approval", Duration::from_secs(120), |s| {
            s.messages().iter().any(|m| m.thread_ts.is_none())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let root = w
        .slack
        .messages()
        .into_iter()
        .find(|m| m.thread_ts.is_none())
        .unwrap();
    let at = root.text.find("R-").context("request id")?;
    let id = root.text[at..at + 10].to_string();
    let before = w.okta.stats();
    let other = other_client(&w.okta, &s);
    let started = Instant::now();
    w.driver
        .click(APPROVER, CHANNEL, &root.ts, "approve", &id)
        .await;
    loop {
        let r = w
            .app
            .service
            .store
            .get_request(&id)
            .await?
            .context("request")?;
        if r.state.is_final() {
            anyhow::ensure!(r.state == State::Completed, "run ended {:?}", r.state);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    if let Some(o) = other {
        o.abort();
    }
    let after = w.okta.stats();
    let ids: Vec<String> = org.users.iter().map(|u| u.id.clone()).collect();
    let twice = ids.iter().filter(|i| w.okta.reset_count(i) > 1).count();
    let behind = ids.iter().filter(|i| w.okta.reset_count(i) == 0).count();
    let calls = after.calls.users_post - before.calls.users_post;
    let limited = (after.rate_limited + after.concurrency_limited)
        - (before.rate_limited + before.concurrency_limited);
    let client = w.app.okta.stats();
    // First to last accepted reset: the run without its start and summary.
    let resets = w.okta.reset_calls();
    let span = match (resets.first(), resets.last()) {
        (Some(a), Some(b)) => b.at.duration_since(a.at).unwrap_or_default().as_secs_f64(),
        _ => f64::NAN,
    };
    let rss = peak_rss_mb();
    w.app.shutdown().await;

    // The seed workaround on a fresh simulator with the same behaviour.
    let seed = seed_loop(&s, &org).await?;
    println!(
        "{}",
        serde_json::json!({
            "users": s.users, "wall": wall, "span": span, "calls": calls, "limited": limited,
            "retries": client.retries, "twice": twice, "behind": behind, "rss": rss,
            "allowed": s.limit as f64 * share / s.window.as_secs_f64(),
            "effective": s.limit as f64 * share.min(1.0 - s.other_share) / s.window.as_secs_f64(),
            "seed_wall": seed.0, "seed_reset": seed.1,
        })
    );
    Ok(())
}

/// The workaround: one call at a time over the exported ids, no retry on 429 or 5xx.
async fn seed_loop(s: &Scenario, org: &SimOrg) -> anyhow::Result<(f64, usize)> {
    let sim = OktaSim::start(org.clone(), sim_config(s)).await?;
    let other = other_client(&sim, s);
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut reset = 0;
    for u in &org.users {
        let url = format!(
            "{}/api/v1/users/{}/lifecycle/reset_password?sendEmail=true",
            sim.base_url(),
            u.id
        );
        let r = http
            .post(url)
            .header("Authorization", format!("SSWS {}", sim.api_token()))
            .header("Content-Length", "0")
            .send()
            .await;
        if r.is_ok_and(|r| r.status().is_success()) {
            reset += 1;
        }
    }
    let wall = started.elapsed().as_secs_f64();
    if let Some(o) = other {
        o.abort();
    }
    Ok((wall, reset))
}

/// Resolution only of a 100,000-member group, pages of 200, into a SQLite store.
async fn resolve_100k() -> anyhow::Result<()> {
    let n = 100_000;
    let org = SimOrg::new().with_generated_group("huge", n);
    let sim = OktaSim::start(
        org,
        OktaSimConfig {
            window: Duration::from_secs(10),
            limits: BucketLimits::uniform(100_000),
            ..OktaSimConfig::default()
        },
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let store = crate::store::open(&format!("sqlite://{}/bench.db", dir.path().display())).await?;
    let client = crate::okta::OktaClient::new(
        url::Url::parse(&sim.base_url())?,
        crate::okta::auth::Auth::ApiToken(crate::secret::Secret::from(sim.api_token())),
        crate::okta::client::ClientSettings {
            call_timeout: Duration::from_secs(10),
            max_retries: 3,
            concurrency: 8,
            max_share: 0.8,
        },
        Arc::new(crate::clock::SystemClock),
    )?;
    let rss_before = peak_rss_mb();
    let started = Instant::now();
    let specs = [crate::domain::command::TargetSpec::GroupName("huge".into())];
    let r = resolve(
        &client,
        store.as_ref(),
        "R-BENCH000",
        &specs,
        ResolveSettings {
            max_targets: n,
            protected_groups: &[],
            protected_logins: &[],
            requester_identities: &[],
            clock: &crate::clock::SystemClock,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"users": r.distinct, "wall": wall, "rss": peak_rss_mb(), "rss_sim": rss_before, "calls": client.stats().calls})
    );
    Ok(())
}

/// Runs every scenario in a child process and prints the table.
pub fn run_all() -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let mut out = String::new();
    out.push_str("scenario     users  wall_s  calls/s  allowed/s  ratio  after_others  429s  retries  reset_twice  left_behind  peak_RSS_MB  resets_span_s | seed_wall_s  seed_reset  wall_ratio  reset_ratio\n");
    for name in SCENARIOS {
        eprintln!("bench: running {name}…");
        let o = std::process::Command::new(&exe)
            .args(["bench", "okta", "--only", name])
            .output()?;
        anyhow::ensure!(
            o.status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let line = String::from_utf8_lossy(&o.stdout);
        let v: serde_json::Value = serde_json::from_str(line.trim())?;
        let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        if name == "resolve100k" {
            out.push_str(&format!(
                "{name:<12} {:>5} {:>7.1}  ({} calls)  peak_RSS_MB {:.1} (of which {:.1} before resolving: the simulated org)\n",
                f("users"), f("wall"), f("calls"), f("rss"), f("rss_sim")
            ));
            continue;
        }
        let rate = f("calls") / f("wall");
        out.push_str(&format!(
            "{name:<12} {:>5} {:>7.1} {:>8.1} {:>10.1} {:>6.2} {:>13.2} {:>5} {:>8} {:>12} {:>12} {:>12.1} {:>14.1} | {:>11.1} {:>11} {:>11.3} {:>12.2}\n",
            f("users"), f("wall"), rate, f("allowed"), rate / f("allowed"), rate / f("effective"),
            f("limited"), f("retries"), f("twice"), f("behind"), f("rss"), f("span"),
            f("seed_wall"), f("seed_reset"), f("wall") / f("seed_wall"),
            (f("users") - f("behind")) / f("seed_reset").max(1.0),
        ));
    }
    Ok(out)
}
