//! End-to-end tests: signed requests over HTTP to the real bot, against the simulated Okta org
//! and Slack workspace (one harness, `helpers`).

mod approvals;
mod audit_cli;
mod audit_trail;
mod check;
mod dpop_paced;
mod drills;
mod flow;
mod form;
mod groups;
mod helpers;
mod http_edges;
mod identity;
mod limits;
mod lookup_pacing;
mod malformed_okta;
mod okta_engine;
mod ops;
mod record_helpers;
mod refusals;
mod run;
mod sign_off_helpers;
mod socket;
mod text_safety;
mod upload_helpers;
mod upload_refusals;
mod uploads;
