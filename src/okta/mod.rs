//! Okta: the client (auth, retries, errorCode classification), the pacer (rate-limit budget),
//! and resolution of requested targets into a classified snapshot.

pub mod client;
pub mod error;
pub mod model;
pub mod pacer;
pub mod resolve;
pub mod system_log;

pub use client::OktaClient;
pub use error::OktaError;
