//! `okta-reset`: the command line. Thin: parse arguments, set up logging, call the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use okta_reset::config::{Config, LogFormat, Secrets};

#[derive(Parser)]
#[command(
    name = "okta-reset",
    version,
    about = "Bulk Okta password resets from Slack, under a two-person rule"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the bot: Slack's HTTP endpoints, the job runner and the expiry sweep.
    Serve {
        /// Path to the TOML config (see config/okta-reset.example.toml).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Play the whole flow against the built-in simulated Okta org and Slack workspace.
    Demo,
    /// Try everything `serve` needs (config, Slack, Okta, store) without starting; exit 0 only
    /// when it is safe to start.
    Check {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Exit 0 when GET URL answers 2xx within 3 s (the container's HEALTHCHECK: no curl there).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:3000/healthz")]
        url: String,
    },
    /// Check or export the tamper-evident audit log. Reads only the store: no secrets needed.
    Audit {
        #[command(subcommand)]
        command: AuditCmd,
    },
    /// Write a request's incident record as Markdown (stdout, or --out). Reads only the store:
    /// no secrets needed. Exit 2 when the request does not exist.
    Report {
        /// The request id (R-…).
        request: String,
        /// Path to the TOML config (only `store.url` is used).
        #[arg(long, short)]
        config: PathBuf,
        /// Write the Markdown here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Benchmarks that print figures.
    Bench {
        #[command(subcommand)]
        which: BenchCmd,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the hash chain; exit 0 if intact, 1 at the first event that does not hold, 2 if it
    /// cannot be checked (no store, empty log, store from a newer okta-reset).
    Verify {
        /// Path to the TOML config (only `store.url` is used).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Write events to stdout for a SIEM (fields: see README, "Auditing").
    Export {
        /// Path to the TOML config (only `store.url` is used).
        #[arg(long, short)]
        config: PathBuf,
        /// Only events at or after this time: RFC 3339 (2026-11-27T09:30:00Z) or a date (UTC).
        #[arg(long)]
        since: Option<String>,
        /// Only the events of this request (R-…).
        #[arg(long)]
        request: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: okta_reset::audit::Format,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Journal throughput of each store backend, beside Okta's reset budget.
    Store {
        /// PostgreSQL server to measure on, in a scratch schema it creates (default:
        /// OKTA_RESET_TEST_DATABASE_URL or the local server). SQLite runs in a scratch folder.
        /// Never touches an existing store's tables.
        #[arg(long)]
        postgres: Option<String>,
        #[arg(long, default_value_t = 2000)]
        users: usize,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Signed Slack traffic against this binary run as a separate `serve` process: ack latency,
    /// errors, the bot's RSS (release build for meaningful figures).
    Load {
        #[arg(long, default_value_t = 1000)]
        events_per_sec: u32,
        #[arg(long, default_value_t = 50)]
        commands_per_sec: u32,
        #[arg(long, default_value_t = 30)]
        secs: u64,
    },
    /// Lookups of mixed kinds at a steady pace against the simulated org with Okta's default
    /// limits: time from command to approval message (60 lookups, one every 2 s: ~2 minutes).
    Lookups {
        #[arg(long, default_value_t = 60)]
        count: usize,
        /// Seconds between commands.
        #[arg(long, default_value_t = 2.0)]
        every: f64,
        /// Okta's simulated latency, in milliseconds.
        #[arg(long, default_value_t = 40)]
        latency_ms: u64,
    },
    /// The Okta engine against the simulated org, beside the seed workaround (~15 minutes).
    Okta {
        /// Run one scenario in this process and print its figures as JSON.
        #[arg(long)]
        only: Option<String>,
    },
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Serve { config } => serve(&config).await,
        Cmd::Demo => demo().await,
        Cmd::Check { config } => check(&config).await,
        Cmd::Healthcheck { url } => healthcheck(&url).await,
        Cmd::Audit { command } => audit(command).await,
        Cmd::Report {
            request,
            config,
            out,
        } => report(&request, &config, out.as_deref()).await,
        Cmd::Bench { which } => bench(which).await,
    }
}

/// The end of most subcommands: `output` on stdout and exit 0, or `{failed}: {error chain}` on
/// stderr and exit 1.
fn print_or_fail(result: anyhow::Result<String>, failed: &str) -> ExitCode {
    match result {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{failed}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `output` and a newline, for results printed with `println!`.
fn line(output: String) -> String {
    output + "\n"
}

/// Exit 2 when the config or a secret is wrong, 1 when the bot stops on an error.
async fn serve(config: &Path) -> ExitCode {
    let loaded = Config::from_file(config).and_then(|c| Secrets::for_config(&c).map(|s| (c, s)));
    let (config, secrets) = match loaded {
        Ok(v) => v,
        Err(e) => {
            eprintln!("okta-reset: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log.format, "info");
    let served = okta_reset::app::serve(config, secrets).await;
    print_or_fail(served.map(|()| String::new()), "okta-reset")
}

async fn demo() -> ExitCode {
    // Quiet by default: the transcript is the output. RUST_LOG=info shows the bot's logs.
    init_logging(LogFormat::Text, "warn");
    print_or_fail(
        okta_reset::demo::run().await.map(line),
        "okta-reset demo failed",
    )
}

/// Exit 0 only when safe to start, 1 when a check fails, 2 when the config or a secret is wrong.
async fn check(config: &Path) -> ExitCode {
    init_logging(LogFormat::Text, "error");
    let loaded = Config::from_file(config).and_then(|c| {
        let s = Secrets::from_env()?;
        s.check_for(&c)?;
        Ok((c, s))
    });
    let (config, secrets) = match loaded {
        Ok(v) => v,
        Err(e) => {
            println!("FAIL {e}\nNot safe to start.");
            return ExitCode::from(2);
        }
    };
    let report = okta_reset::check::run(&config, &secrets).await;
    println!("{report}");
    if report.safe_to_start() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn healthcheck(url: &str) -> ExitCode {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build();
    match client.map(|c| c.get(url).send()) {
        Ok(send) => match send.await {
            Ok(r) if r.status().is_success() => ExitCode::SUCCESS,
            Ok(r) => {
                eprintln!("okta-reset healthcheck: {url} answered {}", r.status());
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("okta-reset healthcheck: {url}: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("okta-reset healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn report(request: &str, config: &Path, out: Option<&Path>) -> ExitCode {
    use okta_reset::report::{report_command, EXIT_CANNOT, EXIT_OK};
    init_logging(LogFormat::Text, "warn");
    let o = report_command(config, request).await;
    if o.code != EXIT_OK {
        eprintln!("okta-reset report: {}", o.text);
        return ExitCode::from(o.code);
    }
    match out {
        None => {
            print!("{}", o.text);
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(path, &o.text) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("okta-reset report: cannot write {}: {e}", path.display());
                ExitCode::from(EXIT_CANNOT)
            }
        },
    }
}

async fn bench(which: BenchCmd) -> ExitCode {
    use okta_reset::bench;
    match which {
        BenchCmd::Store {
            postgres,
            users,
            concurrency,
        } => {
            init_logging(LogFormat::Text, "warn");
            let scratch = tempfile::tempdir();
            let result = async {
                let dir = scratch.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
                let server = postgres.unwrap_or_else(okta_reset::store::test_server_url);
                let pg = okta_reset::store::scratch_schema_url(&server).await?;
                let stores = vec![format!("sqlite://{}/bench.db", dir.path().display()), pg];
                bench::store::run(&stores, users, concurrency).await
            }
            .await;
            print_or_fail(result.map(line), "okta-reset bench failed")
        }
        BenchCmd::Load {
            events_per_sec,
            commands_per_sec,
            secs,
        } => {
            init_logging(LogFormat::Text, "warn");
            let opts = bench::load::LoadOptions {
                events_per_sec,
                commands_per_sec,
                secs,
            };
            let result = match std::env::current_exe() {
                Ok(bin) => bench::load::run(&bin, opts).await,
                Err(e) => Err(e.into()),
            };
            print_or_fail(result.map(line), "okta-reset bench failed")
        }
        BenchCmd::Lookups {
            count,
            every,
            latency_ms,
        } => {
            init_logging(LogFormat::Text, "error");
            let opts = bench::lookups::LookupOptions {
                count,
                every: std::time::Duration::from_secs_f64(every.max(0.0)),
                latency: std::time::Duration::from_millis(latency_ms),
            };
            print_or_fail(
                bench::lookups::run(opts).await,
                "okta-reset bench lookups failed",
            )
        }
        BenchCmd::Okta { only } => {
            init_logging(LogFormat::Text, "error");
            let result = match only {
                Some(name) => bench::okta::run_one(&name).await.map(|()| String::new()),
                None => bench::okta::run_all(),
            };
            print_or_fail(result, "okta-reset bench okta failed")
        }
    }
}

async fn audit(command: AuditCmd) -> ExitCode {
    use okta_reset::audit::cli;
    init_logging(LogFormat::Text, "warn");
    match command {
        AuditCmd::Verify { config } => {
            let out = cli::verify_command(&config).await;
            if out.code == cli::EXIT_CANNOT {
                eprintln!("okta-reset audit verify: {}", out.message);
            } else {
                println!("{}", out.message);
            }
            ExitCode::from(out.code)
        }
        AuditCmd::Export {
            config,
            since,
            request,
            format,
        } => {
            let args = cli::ExportArgs {
                since,
                request,
                format,
            };
            let mut stdout = std::io::stdout().lock();
            let out = cli::export_command(&config, &args, &mut stdout).await;
            eprintln!("okta-reset audit export: {}", out.message);
            ExitCode::from(out.code)
        }
    }
}
