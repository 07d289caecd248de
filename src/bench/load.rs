//! `okta-reset bench load`: a busy workspace against the real binary. The bot runs as a child
//! process (`serve`, so its RSS is its own) wired to the simulated Slack and Okta; this process
//! sends signed Events API callbacks (channel chatter the bot must ignore, and its own echoed
//! messages) and slash commands at fixed rates over loopback, and prints acknowledgement
//! latency, errors and the bot's RSS.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tokio::process::Command;
use tokio::sync::Mutex;

use crate::sim::okta::{OktaSim, OktaSimConfig, SimOrg};
use crate::sim::slack::{SlackDriver, SlackSim, SlackSimConfig};
use crate::sim::world::{config_toml, CHANNEL, OUTSIDER, REQUESTER, SIGNING_SECRET, TEAM};

pub struct LoadOptions {
    pub events_per_sec: u32,
    pub commands_per_sec: u32,
    pub secs: u64,
}

#[derive(Default)]
struct Samples {
    events: Vec<Duration>,
    commands: Vec<Duration>,
    errors: Vec<String>,
}

/// Resident set size of `pid` in KiB, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub(crate) fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub async fn run(bin: &Path, opts: LoadOptions) -> anyhow::Result<String> {
    let okta = OktaSim::start(SimOrg::demo(), OktaSimConfig::default()).await?;
    let slack = SlackSim::start(SlackSimConfig::demo()).await?;
    let dir = tempfile::tempdir()?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let listen = format!("127.0.0.1:{port}");
    let config = dir.path().join("okta-reset.toml");
    std::fs::write(
        &config,
        config_toml(
            &slack.api_url(),
            &okta.base_url(),
            &format!("sqlite://{}/okta-reset.db", dir.path().display()),
            &listen,
        ),
    )?;
    let mut child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&config)
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("SLACK_BOT_TOKEN", slack.bot_token())
        .env("OKTA_API_TOKEN", okta.api_token())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the bot")?;
    let pid = child.id().context("the bot exited at once")?;
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the bot did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kib = rss_kib(pid).unwrap_or(0);

    let driver = Arc::new(SlackDriver::new(&base, SIGNING_SECRET, TEAM).with_sim(&slack));
    let samples = Arc::new(Mutex::new(Samples::default()));
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(idle_kib));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(k) = rss_kib(pid) {
                    peak.fetch_max(k, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    // Every 10 ms, a hundredth of each second's share (fractions carried over).
    let tick = Duration::from_millis(10);
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut ev_due, mut cmd_due) = (0.0f64, 0.0f64);
    let mut n: u64 = 0;
    let mut tasks = Vec::new();
    let load_start = Instant::now();
    while load_start.elapsed() < Duration::from_secs(opts.secs) {
        interval.tick().await;
        ev_due += f64::from(opts.events_per_sec) / 100.0;
        cmd_due += f64::from(opts.commands_per_sec) / 100.0;
        while ev_due >= 1.0 {
            ev_due -= 1.0;
            n += 1;
            let ts = format!("{}.{:06}", 1_800_000_000 + n / 1_000_000, n % 1_000_000);
            // One in a hundred is the bot's own message echoed back; the rest is chatter.
            let event = if n % 100 == 0 {
                driver.bot_message(CHANNEL, &ts, "Progress: 10 of 28")
            } else {
                json!({"type": "message", "user": REQUESTER, "text": format!("lunch? #{n}"),
                       "ts": ts, "event_ts": ts, "channel": CHANNEL, "channel_type": "channel"})
            };
            let (driver, samples) = (driver.clone(), samples.clone());
            tasks.push(tokio::spawn(async move {
                let r = driver
                    .deliver_event(&driver.event_envelope(event), None)
                    .await;
                let mut s = samples.lock().await;
                if r.status == 200 {
                    s.events.push(r.elapsed);
                } else {
                    s.errors.push(format!("event: {} {}", r.status, r.body));
                }
            }));
        }
        while cmd_due >= 1.0 {
            cmd_due -= 1.0;
            n += 1;
            // Answered at once without Okta: help, and a refusal by the allowlist.
            let (user, text) = if n % 2 == 0 {
                (REQUESTER, "help")
            } else {
                (OUTSIDER, "group:contractors reason:x")
            };
            let (driver, samples) = (driver.clone(), samples.clone());
            tasks.push(tokio::spawn(async move {
                let r = driver.slash(user, CHANNEL, text).await;
                let mut s = samples.lock().await;
                if r.status == 200 && r.json.is_some() {
                    s.commands.push(r.elapsed);
                } else {
                    s.errors.push(format!("command: {} {}", r.status, r.body));
                }
            }));
        }
    }
    let sent_for = load_start.elapsed();
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sampler.abort();
    let peak_kib = peak.load(std::sync::atomic::Ordering::Relaxed);
    let after_kib = rss_kib(pid).unwrap_or(0);
    let _ = child.kill().await;

    let mut s = samples.lock().await;
    s.events.sort();
    s.commands.sort();
    let mut all: Vec<Duration> = s.events.iter().chain(&s.commands).copied().collect();
    all.sort();
    let mut out = String::new();
    writeln!(
        out,
        "okta-reset bench load: {} events/s + {} slash commands/s for {} s (sent in {:.1} s), bot as a separate process",
        opts.events_per_sec, opts.commands_per_sec, opts.secs, sent_for.as_secs_f64()
    )?;
    for (name, v) in [
        ("events", &s.events),
        ("commands", &s.commands),
        ("all", &all),
    ] {
        writeln!(
            out,
            "  {name:<9} {:>6} acked   p50 {:>9}   p99 {:>9}   max {:>9}",
            v.len(),
            ms(pct(v, 0.50)),
            ms(pct(v, 0.99)),
            ms(v.last().copied().unwrap_or_default())
        )?;
    }
    writeln!(out, "  errors    {}", s.errors.len())?;
    for e in s.errors.iter().take(5) {
        writeln!(out, "    {e}")?;
    }
    writeln!(
        out,
        "  bot RSS   idle {:.1} MB, peak {:.1} MB under load, {:.1} MB after",
        idle_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
        after_kib as f64 / 1024.0
    )?;
    write!(
        out,
        "  targets   p99 < 20 ms, 0 errors, idle RSS < 30 MB, < 100 MB under load"
    )?;
    Ok(out)
}
