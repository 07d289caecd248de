//! Simulated Okta org and Slack workspace: real HTTP servers on 127.0.0.1 that behave like the
//! services (pagination, rate-limit headers, 429s, status rules). The demo, the tests and the
//! benchmarks drive the bot through them.

pub mod okta;
pub mod slack;
pub mod world;
