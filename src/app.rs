//! Wiring: config → store, Okta, Slack → service → router + runner + expiry sweep. Binds its own
//! listener and reports the port, so tests start it on port 0 with no sleeps.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Secrets, SlackMode};
use crate::jobs;
use crate::okta::OktaClient;
use crate::secret::Secret;
use crate::service::Service;
use crate::slack::inbound::{ops, router, HttpState};
use crate::slack::outbound::SlackOut;
use crate::slack::socket;
use crate::store;

/// How often pending requests are checked for expiry (clicks check it too, at once).
const EXPIRY_SWEEP: Duration = Duration::from_secs(20);

pub struct App {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
    /// The real Okta client behind the service's `OktaApi`, for what only it has: its pacing
    /// statistics and concurrency gate (benchmarks, tests).
    pub okta: Arc<OktaClient>,
    stop: watch::Sender<bool>,
    /// Set when the bot can no longer work and must stop: Slack disabled Socket Mode for the app.
    halt: watch::Receiver<Option<String>>,
    server: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl App {
    /// Builds everything and starts serving on `listener`.
    pub async fn start(
        config: Config,
        secrets: Secrets,
        listener: TcpListener,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<App> {
        secrets.check_for(&config)?;
        let config = Arc::new(config);
        let store = store::open(&config.store.url).await.with_context(|| {
            format!(
                "the store at {} could not be opened",
                store::redact_url(&config.store.url)
            )
        })?;
        let okta = crate::okta::client_from_config(&config.okta, &secrets, clock.clone())
            .map_err(|e| anyhow::anyhow!("cannot build the Okta client: {e}"))?;
        let slack = SlackOut::new(&config.slack.api_url, &secrets.slack_bot_token)
            .context("cannot build the Slack client")?;
        let okta = Arc::new(okta);
        let (service, runs) =
            Service::new(config.clone(), store, okta.clone(), Arc::new(slack), clock);
        service.audit_policy().await;

        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let (halt_tx, halt) = watch::channel(None);
        let mut background = Vec::new();
        if let (SlackMode::Socket, Some(token)) = (config.slack.mode, &secrets.slack_app_token) {
            background.push(start_socket(&service, &config, token.clone(), &stop, halt_tx).await?);
        }
        let mut app = router(
            HttpState {
                svc: service.clone(),
                signing_secret: secrets.slack_signing_secret.clone(),
            },
            config.server.body_limit_bytes,
        );
        if let Some(web) = crate::service::step_up::web::state_for(&service, &config, &secrets) {
            app = app.merge(crate::service::step_up::web::router(web));
        }
        match config.server.metrics_listen {
            None => app = app.merge(ops::metrics_router()),
            Some(at) => background.push(serve_metrics(at, stop.subscribe()).await?),
        }
        let app = app.layer(axum::middleware::from_fn(ops::request_span));
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });

        let runner = tokio::spawn(jobs::run_loop(service.clone(), runs, stop.subscribe()));
        let sweeper = {
            let svc = service.clone();
            // Expiry, and runs nobody holds (at start: ours from before a restart; later: a
            // dead replica's, once its lease lapsed), and summaries a Slack outage held back
            // (in their own task: Slack may be slow to refuse, and expiry must not wait).
            let every = EXPIRY_SWEEP.min(Duration::from_millis(svc.lease_ms() as u64 / 2));
            tokio::spawn(async move {
                loop {
                    svc.expire_due().await;
                    svc.forget_old_events().await;
                    svc.forget_abandoned_staging().await;
                    jobs::take_over_orphans(&svc).await;
                    let late = svc.clone();
                    tokio::spawn(async move { jobs::post_overdue_summaries(&late).await });
                    tokio::time::sleep(every).await;
                }
            })
        };
        tracing::info!(%addr, "okta-reset is listening");
        Ok(App {
            addr,
            service,
            okta,
            stop,
            halt,
            server,
            background: vec![runner, sweeper]
                .into_iter()
                .chain(background)
                .collect(),
        })
    }

    /// Becomes `Some(why)` when the bot cannot go on (Socket Mode disabled by Slack); `serve`
    /// then stops with that message.
    pub fn halted(&self) -> watch::Receiver<Option<String>> {
        self.halt.clone()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, lets the calls in flight finish and be journalled (bounded),
    /// and stops background work. Runs left unfinished resume at the next start.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        let mut background = self.background.into_iter();
        if let Some(runner) = background.next() {
            let _ = tokio::time::timeout(jobs::DRAIN + Duration::from_secs(1), runner).await;
        }
        for h in background {
            h.abort();
        }
    }
}

/// `/metrics` on its own address (`server.metrics_listen`).
async fn serve_metrics(
    at: SocketAddr,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<JoinHandle<()>> {
    let listener = TcpListener::bind(at)
        .await
        .with_context(|| format!("cannot listen on {at} (server.metrics_listen)"))?;
    tracing::info!(addr = %at, "metrics are served on their own address");
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let _ = axum::serve(listener, ops::metrics_router())
            .with_graceful_shutdown(shutdown)
            .await;
    }))
}

/// Socket Mode: the first connection URL is asked for here, so a refused app token stops the
/// start with its reason; a Slack that is briefly unreachable is retried in the background.
async fn start_socket(
    service: &Arc<Service>,
    config: &Config,
    token: Secret,
    stop: &watch::Sender<bool>,
    halt: watch::Sender<Option<String>>,
) -> anyhow::Result<JoinHandle<()>> {
    let connector = socket::Connector::new(&config.slack.api_url, token);
    let first = match connector.open_url().await {
        Ok(url) => Some(url),
        Err(socket::OpenError::Token(why)) => anyhow::bail!(why),
        Err(e) => {
            tracing::warn!(error = %e, "Socket Mode: Slack not reachable yet; retrying");
            None
        }
    };
    let run = socket::run(service.clone(), connector, first, stop.subscribe());
    Ok(tokio::spawn(async move {
        if let socket::Ended::LinkDisabled(why) = run.await {
            let _ = halt.send(Some(why));
        }
    }))
}

/// `okta-reset serve`: runs until SIGTERM or Ctrl-C.
pub async fn serve(config: Config, secrets: Secrets) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let app = App::start(config, secrets, listener, Arc::new(SystemClock)).await?;
    let mut halted = app.halted();
    let halt = async move {
        match halted.wait_for(Option::is_some).await {
            Ok(why) => why.clone(),
            // No Socket Mode (its sender is gone): nothing can halt the bot.
            Err(_) => std::future::pending().await,
        }
    };
    let halt = tokio::select! {
        _ = shutdown_signal() => None,
        why = halt => why,
    };
    tracing::info!("shutting down");
    app.shutdown().await;
    match halt {
        // Exits non-zero with the reason, so the supervisor (systemd, Kubernetes) shows it.
        Some(why) => anyhow::bail!(why),
        None => Ok(()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
