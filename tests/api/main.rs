//! End-to-end tests: signed requests over HTTP to the real bot, against the simulated Okta org
//! and Slack workspace (one harness, `helpers`).

mod approvals;
mod audit_cli;
mod audit_trail;
mod check;
mod drills;
mod flow;
mod form;
mod helpers;
mod http_edges;
mod identity;
mod okta_engine;
mod ops;
mod refusals;
mod run;
mod socket;
mod upload_helpers;
mod upload_refusals;
mod uploads;
