//! Everything that speaks Slack: request verification, inbound payloads, rendering, outbound API.

pub mod escape;
pub mod inbound;
pub mod outbound;
pub mod render;
pub mod upload;
pub mod verify;
