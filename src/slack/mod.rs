//! Everything that speaks Slack: request verification, inbound payloads, rendering, outbound API.

pub mod verify;
