//! Everything that speaks Slack: request verification, inbound payloads, rendering, outbound API.

pub mod escape;
pub mod events;
pub mod inbound;
pub mod modal;
pub mod outbound;
pub mod render;
pub mod render_budget;
pub mod render_file;
pub mod render_notice;
pub mod render_sign_offs;
pub mod replay;
pub mod scopes;
pub mod socket;
pub mod upload;
pub mod verify;
