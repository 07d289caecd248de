//! Which Slack scope each Web API method and event the bot uses needs. The manifests in
//! `config/` must grant exactly these (a test compares them), so a scope is never missing at run
//! time nor granted without a use.

/// Every Web API method the bot calls, with the bot scopes it needs (empty: none needed).
pub const METHODS: &[(&str, &[&str])] = &[
    // Approval message, progress, summary, and private refusals.
    ("chat.postMessage", &["chat:write"]),
    ("chat.update", &["chat:write"]),
    ("chat.postEphemeral", &["chat:write"]),
    // Guests, bots, deactivated accounts refused; the email keeps people out of their own targets.
    ("users.info", &["users:read", "users:read.email"]),
    // Allowlists naming Slack user groups (S…): who is in each, read when someone not listed by
    // ID asks or approves.
    ("usergroups.users.list", &["usergroups:read"]),
    // policy.notify_users: a reset person found in Slack by their Okta primary email, and the
    // bot's DM with them opened to tell them (the DM itself is chat.postMessage).
    ("users.lookupByEmail", &["users:read.email"]),
    ("conversations.open", &["im:write"]),
    // The request form, opened with a slash command's trigger_id: no scope.
    ("views.open", &[]),
    // A shared CSV's metadata and its download with the bot token.
    ("files.info", &["files:read"]),
    // The results file of a finished run, uploaded into its thread.
    ("files.getUploadURLExternal", &["files:write"]),
    ("files.completeUploadExternal", &["files:write"]),
    // The bot's own user id; `okta-reset check` calls it first.
    ("auth.test", &[]),
    // `okta-reset check`: is the bot a member of each configured channel (public, private)?
    // `cancel` and `status` typed in a DM: is it the person's DM with the bot (im:read)?
    (
        "conversations.info",
        &["channels:read", "groups:read", "im:read"],
    ),
];

/// Every event the bot subscribes to, with the scope that delivers it.
pub const EVENTS: &[(&str, &str)] = &[
    ("app_mention", "app_mentions:read"),
    ("message.channels", "channels:history"),
    ("message.groups", "groups:history"),
];

/// Scopes that come with a feature rather than a method: `/okta-reset` itself.
pub const FEATURES: &[&str] = &["commands"];

/// All the bot scopes the code needs, sorted and without repeats.
pub fn needed() -> std::collections::BTreeSet<&'static str> {
    METHODS
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .chain(EVENTS.iter().map(|(_, s)| *s))
        .chain(FEATURES.iter().copied())
        .collect()
}

#[cfg(test)]
mod tests;
