//! Benchmarks that print figures (never timed assertions in tests).

pub mod load;
pub mod lookups;
pub mod okta;
pub mod store;
