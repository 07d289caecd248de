//! okta-reset: a Slack bot that bulk-resets Okta passwords under a two-person rule.
//!
//! Data walks one way: Slack request → intent → policy → store → Okta → journal → Slack message.

pub mod app;
pub mod audit;
pub mod bench;
pub mod check;
pub mod clock;
pub mod config;
pub mod csv_input;
pub mod demo;
pub mod domain;
pub mod jobs;
pub mod metrics;
pub mod okta;
pub mod report;
pub mod results;
pub mod secret;
pub mod service;
pub mod sim;
pub mod slack;
pub mod spreadsheet;
pub mod store;
