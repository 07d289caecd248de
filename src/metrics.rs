//! Prometheus metrics (`GET /metrics`, text format) and the last Okta contact for `/readyz`.
//! One process-wide registry, as Prometheus clients usually have: the counters are bumped from
//! deep inside the Okta client, the pacer, the runner and the Slack client without threading a
//! handle through every constructor.

use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Counter, Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};

pub struct Metrics {
    registry: Registry,
    /// Inbound Slack requests by route (or Socket Mode envelope kind) and outcome.
    pub requests: IntCounterVec,
    /// Users' reset outcomes as journalled (`reset`, `failed`, `pending` for a stopped run).
    pub resets: IntCounterVec,
    /// Okta answers by HTTP status; `transport` for no answer at all.
    pub okta_calls: IntCounterVec,
    pub okta_429: IntCounter,
    /// Seconds callers spent waiting on the pacer for a rate-limit window.
    pub pacer_wait_seconds: Counter,
    /// Slack Web API calls that failed, by method.
    pub slack_errors: IntCounterVec,
    pub run_duration_seconds: Histogram,
    pub runs_in_progress: IntGauge,
}

/// One Okta client's last contact, for `/readyz`: what it said about the connection, and when.
#[derive(Debug, Default)]
pub struct OktaContact {
    unix: AtomicI64,
    health: AtomicU8,
}

/// What the last Okta contact said about the connection (not about one user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OktaHealth {
    /// No call yet since the start.
    Unknown,
    /// Okta answered (any status but 401).
    Answering,
    /// Okta answered 401: the API token is refused.
    TokenRefused,
    /// No answer (connection refused, TLS, timeout).
    Unreachable,
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("registered once");
    c
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let r = Registry::new_custom(Some("okta_reset".into()), None).expect("valid prefix");
    let okta_429 = IntCounter::new("okta_rate_limited_total", "Okta 429 answers").expect("valid");
    let pacer = Counter::new(
        "pacer_wait_seconds_total",
        "Seconds spent waiting for Okta rate-limit windows",
    )
    .expect("valid");
    let duration = Histogram::with_opts(
        HistogramOpts::new(
            "run_duration_seconds",
            "Duration of a run (approval to summary)",
        )
        .buckets(vec![1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 14400.0]),
    )
    .expect("valid");
    let in_progress =
        IntGauge::new("runs_in_progress", "Runs being carried out by this process").expect("valid");
    for m in [
        Box::new(okta_429.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(pacer.clone()),
        Box::new(duration.clone()),
        Box::new(in_progress.clone()),
    ] {
        r.register(m).expect("registered once");
    }
    Metrics {
        requests: counter_vec(
            &r,
            "slack_requests_total",
            "Inbound Slack requests by route and outcome",
            &["route", "outcome"],
        ),
        resets: counter_vec(&r, "resets_total", "Reset outcomes", &["outcome"]),
        okta_calls: counter_vec(&r, "okta_calls_total", "Okta calls by status", &["status"]),
        slack_errors: counter_vec(
            &r,
            "slack_api_errors_total",
            "Failed Slack Web API calls by method",
            &["method"],
        ),
        okta_429,
        pacer_wait_seconds: pacer,
        run_duration_seconds: duration,
        runs_in_progress: in_progress,
        registry: r,
    }
});

pub fn metrics() -> &'static Metrics {
    &METRICS
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl OktaContact {
    /// Okta answered with `status`.
    pub fn answered(&self, status: u16) {
        let m = metrics();
        m.okta_calls.with_label_values(&[&status.to_string()]).inc();
        if status == 429 {
            m.okta_429.inc();
        }
        let health = if status == 401 {
            OktaHealth::TokenRefused
        } else {
            OktaHealth::Answering
        };
        self.health.store(health as u8, Ordering::Relaxed);
        self.unix.store(now_unix(), Ordering::Relaxed);
    }

    /// A call got no answer.
    pub fn unreachable(&self) {
        metrics().okta_calls.with_label_values(&["transport"]).inc();
        self.health
            .store(OktaHealth::Unreachable as u8, Ordering::Relaxed);
        self.unix.store(now_unix(), Ordering::Relaxed);
    }

    /// What the last contact said, and when (unix seconds; 0 for never).
    pub fn last(&self) -> (OktaHealth, i64) {
        let h = match self.health.load(Ordering::Relaxed) {
            1 => OktaHealth::Answering,
            2 => OktaHealth::TokenRefused,
            3 => OktaHealth::Unreachable,
            _ => OktaHealth::Unknown,
        };
        (h, self.unix.load(Ordering::Relaxed))
    }
}

pub fn pacer_waited(d: Duration) {
    metrics().pacer_wait_seconds.inc_by(d.as_secs_f64());
}

pub fn reset_outcome(outcome: &str) {
    metrics().resets.with_label_values(&[outcome]).inc();
}

pub fn slack_error(method: &str) {
    metrics().slack_errors.with_label_values(&[method]).inc();
}

pub fn request(route: &str, outcome: &str) {
    metrics()
        .requests
        .with_label_values(&[route, outcome])
        .inc();
}

/// Counts a run in progress until dropped, then records its duration.
pub struct RunTimer(std::time::Instant);

impl RunTimer {
    pub fn start() -> Self {
        metrics().runs_in_progress.inc();
        RunTimer(std::time::Instant::now())
    }
}

impl Drop for RunTimer {
    fn drop(&mut self) {
        let m = metrics();
        m.runs_in_progress.dec();
        m.run_duration_seconds
            .observe(self.0.elapsed().as_secs_f64());
    }
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&metrics().registry.gather(), &mut out)
        .expect("text encoding into a Vec does not fail");
    String::from_utf8(out).expect("the text format is UTF-8")
}
