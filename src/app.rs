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
use crate::config::{Config, Secrets};
use crate::jobs;
use crate::service::Service;
use crate::slack::inbound::{router, HttpState};
use crate::slack::outbound::SlackOut;
use crate::store;

/// How often pending requests are checked for expiry (clicks check it too, at once).
const EXPIRY_SWEEP: Duration = Duration::from_secs(20);

pub struct App {
    pub addr: SocketAddr,
    pub service: Arc<Service>,
    stop: watch::Sender<bool>,
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
        let (service, runs) = Service::new(config.clone(), store, Arc::new(okta), slack, clock);
        service.audit_policy().await;

        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let app = router(
            HttpState {
                svc: service.clone(),
                signing_secret: secrets.slack_signing_secret.clone(),
            },
            config.server.body_limit_bytes,
        );
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
            // dead replica's, once its lease lapsed).
            let every = EXPIRY_SWEEP.min(Duration::from_millis(svc.lease_ms() as u64 / 2));
            tokio::spawn(async move {
                loop {
                    svc.expire_due().await;
                    svc.forget_old_events().await;
                    jobs::take_over_orphans(&svc).await;
                    tokio::time::sleep(every).await;
                }
            })
        };
        tracing::info!(%addr, "okta-reset is listening");
        Ok(App {
            addr,
            service,
            stop,
            server,
            background: vec![runner, sweeper],
        })
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

/// `okta-reset serve`: runs until SIGTERM or Ctrl-C.
pub async fn serve(config: Config, secrets: Secrets) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let app = App::start(config, secrets, listener, Arc::new(SystemClock)).await?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    app.shutdown().await;
    Ok(())
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
