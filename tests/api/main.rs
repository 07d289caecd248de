//! End-to-end tests: signed requests over HTTP to the real bot, against the simulated Okta org
//! and Slack workspace (one harness, `helpers`).

mod approvals;
mod audit_cli;
mod audit_trail;
mod check;
mod drills;
mod flow;
mod form;
mod groups;
mod helpers;
mod http_edges;
mod identity;
mod limits;
mod limits_okta;
mod malformed_okta;
mod message_limits;
mod okta_engine;
mod ops;
mod recheck;
mod record_helpers;
mod refusals;
mod run;
mod sign_off_helpers;
mod slack_rate_limits;
mod socket;
mod socket_reconnects;
mod steering;
mod step_up;
mod step_up_check;
mod step_up_helpers;
mod step_up_push;
mod system_log;
mod text_safety;
mod upload_helpers;
mod upload_refusals;
mod uploads;
