//! `okta-reset`: the command line. Thin: parse arguments, set up logging, call the library.

use std::path::PathBuf;
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
    /// Benchmark the Okta engine against the simulated org (prints figures; takes ~15 minutes).
    Bench {
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
    let cli = Cli::parse();
    match cli.command {
        Cmd::Serve { config } => {
            let loaded =
                Config::from_file(&config).and_then(|c| Secrets::for_config(&c).map(|s| (c, s)));
            let (config, secrets) = match loaded {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("okta-reset: {e}");
                    return ExitCode::from(2);
                }
            };
            init_logging(config.log.format, "info");
            match okta_reset::app::serve(config, secrets).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("okta-reset: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Bench { only } => {
            init_logging(LogFormat::Text, "error");
            let result = match only {
                Some(name) => okta_reset::bench::run_one(&name)
                    .await
                    .map(|_| String::new()),
                None => okta_reset::bench::run_all(),
            };
            match result {
                Ok(table) => {
                    print!("{table}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("okta-reset bench failed: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Demo => {
            // Quiet by default: the transcript is the output. RUST_LOG=info shows the bot's logs.
            init_logging(LogFormat::Text, "warn");
            match okta_reset::demo::run().await {
                Ok(report) => {
                    println!("{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("okta-reset demo failed: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
