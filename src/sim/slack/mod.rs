//! Simulated Slack workspace.
//!
//! - [`SlackSim`]: a real HTTP server on 127.0.0.1 that serves as the bot's Slack Web API base URL
//!   (`chat.postMessage`, `chat.update`, `chat.postEphemeral`, `users.info`, `auth.test`,
//!   `users.lookupByEmail` and `conversations.open` — see `dm` —
//!   `files.info`, `views.open`, private file downloads — see `intake` — and the external file
//!   upload flow: `files.getUploadURLExternal`, the upload URL, `files.completeUploadExternal` —
//!   see `uploads`) and as the
//!   target of the `response_url`s the driver hands out. It records what the bot posts, can inject
//!   429s and errors, and renders a channel as a readable transcript.
//! - [`SlackDriver`]: Slack's side towards the bot — signed slash commands, button clicks, form
//!   submissions and Events API callbacks (shared files).
//!
//! Point slack-morphism at the sim with
//! `SlackClientHyperConnector::with_connector(HttpConnector::new()).with_slack_api_url(&sim.api_url())`;
//! `api_url()` has no trailing slash because slack-morphism joins `{url}/{method}`.

mod dm;
mod driver;
mod hooks;
mod intake;
mod ratelimit;
mod record;
mod server;
mod socket;
mod transcript;
mod uploads;

#[cfg(test)]
mod tests;

pub use driver::{slack_escape, DriverResponse, SlackDriver};
pub use intake::{SimFile, SimView, TRIGGER_TTL};
pub use record::{SimEphemeral, SimHookPost, SimMessage, SimSlackUser, SlackSimConfig};
pub use server::{bot_dm, SlackSim, SIM_BOT_ID};
pub use socket::SocketHub;
pub use transcript::render_blocks;
pub use uploads::SimUpload;
