//! Benchmarks that print figures (never timed assertions in tests).

pub mod okta;
pub mod store;
