//! okta-reset: a Slack bot that bulk-resets Okta passwords under a two-person rule.
//!
//! Data walks one way: Slack request → intent → policy → store → Okta → journal → Slack message.

pub mod domain;
pub mod sim;
pub mod slack;
