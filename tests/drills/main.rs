//! Failure drills with real processes: the `okta-reset` binary is started, killed with SIGKILL
//! and restarted against the simulated Okta org and Slack workspace, on SQLite or on the local
//! PostgreSQL server.

mod harness;
mod pg_outage;
mod replicas;
mod restart;
mod socket_mode;
