//! `okta-reset check`: everything `serve` needs, tried before it is started — the config and
//! secrets, Slack (the bot token, membership of each configured channel, Socket Mode's app
//! token), Okta (one cheap read with the API token) and the store (migrations, a write). Each
//! finding is one plain line; the exit code says whether it is safe to start.

use std::fmt;
use url::Url;

use crate::config::{Config, Secrets, SlackMode};
use crate::okta::OktaError;
use crate::slack::outbound::SlackOut;
use crate::slack::socket;
use crate::store;

mod step_up;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub ok: bool,
    /// Safe to start, but something works less well than it could (shown as `warn`).
    pub warn: bool,
    pub text: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn ok(&mut self, text: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            warn: false,
            text: text.into(),
        });
    }
    fn warn(&mut self, text: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            warn: true,
            text: text.into(),
        });
    }
    fn fail(&mut self, text: impl Into<String>) {
        self.findings.push(Finding {
            ok: false,
            warn: false,
            text: text.into(),
        });
    }
    pub fn safe_to_start(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
    /// The texts of the failed findings.
    pub fn problems(&self) -> Vec<&str> {
        self.findings
            .iter()
            .filter(|f| !f.ok)
            .map(|f| f.text.as_str())
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.findings {
            let tag = match (x.ok, x.warn) {
                (false, _) => "FAIL",
                (true, true) => "warn",
                (true, false) => "ok  ",
            };
            writeln!(f, "{tag} {}", x.text)?;
        }
        let n = self.problems().len();
        if n == 0 {
            write!(f, "Safe to start.")
        } else {
            write!(f, "Not safe to start: {n} problem(s) above.")
        }
    }
}

/// Runs every check; a failing one does not stop the others (except where they depend on it).
pub async fn run(config: &Config, secrets: &Secrets) -> Report {
    let mut r = Report::default();
    r.ok(format!(
        "Config: valid ({} channel(s), {} requester(s), {} approver(s), Slack over {})",
        config.slack.channels.len(),
        config.policy.requesters.users.len() + config.policy.requesters.groups.len(),
        config.policy.approvers.users.len() + config.policy.approvers.groups.len(),
        match config.slack.mode {
            SlackMode::Http => "HTTP",
            SlackMode::Socket => "Socket Mode",
        }
    ));
    slack(config, secrets, &mut r).await;
    okta(config, secrets, &mut r).await;
    step_up::run(config, secrets, &mut r).await;
    store_check(config, &mut r).await;
    r
}

async fn slack(config: &Config, secrets: &Secrets, r: &mut Report) {
    let out = match SlackOut::new(&config.slack.api_url, &secrets.slack_bot_token) {
        Ok(o) => o,
        Err(e) => return r.fail(format!("Slack: cannot build the client: {e}")),
    };
    match out.bot_user_id().await {
        Ok(user) => r.ok(format!("Slack: SLACK_BOT_TOKEN works (auth.test: bot user {user})")),
        Err(e) => {
            return r.fail(format!(
                "Slack: SLACK_BOT_TOKEN was refused ({}): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions, and reinstall the app if it was changed",
                e.detail
            ))
        }
    }
    for ch in &config.slack.channels {
        match out.is_member(ch.as_str()).await {
            Ok(true) => r.ok(format!("Slack: the bot is a member of <#{ch}>")),
            Ok(false) => r.fail(format!(
                "Slack: the bot is not a member of {ch}: invite it there (/invite @okta-reset), or it cannot post approvals in that channel"
            )),
            Err(e) => r.fail(format!(
                "Slack: cannot look at channel {ch} ({}): check the ID in slack.channels and that the app has the channels:read and groups:read scopes",
                e.detail
            )),
        }
    }
    usergroups(config, &out, r).await;
    if let (SlackMode::Socket, Some(token)) = (config.slack.mode, &secrets.slack_app_token) {
        // A URL is asked for and not used: it expires unused after a few seconds.
        match socket::Connector::new(&config.slack.api_url, token.clone())
            .open_url()
            .await
        {
            Ok(_) => r.ok("Slack: SLACK_APP_TOKEN opens Socket Mode connections"),
            Err(e) => r.fail(format!("Slack: {e}")),
        }
    }
}

/// Each Slack user group named in an allowlist exists and can be read (one call per group).
async fn usergroups(config: &Config, out: &SlackOut, r: &mut Report) {
    let p = &config.policy;
    let mut named: Vec<(&str, &str)> = Vec::new();
    for (key, list) in [
        ("policy.requesters", &p.requesters),
        ("policy.approvers", &p.approvers),
    ] {
        for g in &list.groups {
            named.push((g.as_str(), key));
        }
    }
    for (group, key) in named {
        match out.usergroup_members(group).await {
            Ok(users) => r.ok(format!(
                "Slack: user group {group} ({key}) has {} member(s)",
                users.len()
            )),
            Err(e) if e.detail.contains("no_such_subteam") => r.fail(format!(
                "Slack: user group {group} in {key} does not exist (no_such_subteam): copy the group's ID (S…) from its profile in Slack"
            )),
            Err(e) => r.fail(format!(
                "Slack: cannot read user group {group} in {key} ({}): check that the app has the usergroups:read scope (reinstall it after adding the scope)",
                e.detail
            )),
        }
    }
}

async fn okta(config: &Config, secrets: &Secrets, r: &mut Report) {
    let org = &config.okta.org_url;
    // The same client `serve` builds (API token or OAuth service app).
    let client = match crate::okta::client_from_config(
        &config.okta,
        secrets,
        std::sync::Arc::new(crate::clock::SystemClock),
    ) {
        Ok(c) => c,
        Err(e) => return r.fail(format!("Okta: cannot build the client: {e}")),
    };
    let mut url: Url = org.clone();
    url.set_path(&format!(
        "{}/api/v1/users",
        org.path().trim_end_matches('/')
    ));
    url.set_query(Some("limit=1"));
    match client.users_page(&url).await {
        Ok(_) => r.ok(format!("Okta: OKTA_API_TOKEN can read users at {org}")),
        Err(OktaError::Unauthorized) => r.fail(
            "Okta: OKTA_API_TOKEN was refused (401 E0000011: invalid, expired or revoked): create a new token under Security → API → Tokens, signed in as an admin with the Help Desk Administrator role",
        ),
        Err(OktaError::Forbidden { code, .. }) => r.fail(format!(
            "Okta: OKTA_API_TOKEN is valid but not allowed to read users (403 {code}): the admin who created it lacks the role; give them the Help Desk Administrator role (or a custom admin role with okta.users.read and okta.users.credentials.resetPassword), or create the token as such an admin"
        )),
        Err(OktaError::AuthRefused { error, description }) => r.fail(format!(
            "Okta: the token endpoint refused the OAuth service app ({error}: {description}): {}",
            crate::okta::auth::token_errors::advice(&error)
        )),
        Err(OktaError::Transport(e)) => r.fail(format!(
            "Okta: {org} could not be reached ({e}): check okta.org_url and the network path"
        )),
        Err(e) => r.fail(format!("Okta: reading one user failed: {e}")),
    }
    if r.findings.last().is_some_and(|f| !f.ok) {
        return;
    }
    // Not needed to reset, so not a failure: without it the results say `unknown` for the
    // System Log proof.
    match client.may_read_logs().await {
        Ok(()) => r.ok("Okta: the bot may read the System Log (okta.logs.read), so each run's resets are confirmed there"),
        Err(OktaError::Forbidden { code, .. }) => r.warn(format!(
            "Okta: the bot may not read the System Log (403 {code}), so runs cannot be confirmed there and the results say `unknown`: grant the service app the okta.logs.read scope (and list it in okta.oauth.scopes), or with an API token use an admin who can view the System Log (e.g. Read-only Administrator)"
        )),
        Err(e) => r.warn(format!(
            "Okta: reading the System Log failed ({e}); runs will say `not yet` until it can be read"
        )),
    }
}

async fn store_check(config: &Config, r: &mut Report) {
    let shown = store::redact_url(&config.store.url);
    let s = match store::open(&config.store.url).await {
        Ok(s) => s,
        Err(e) => {
            return r.fail(format!(
                "Store: {shown} could not be opened or migrated: {e}"
            ))
        }
    };
    r.ok(format!("Store: {shown} opened, migrations applied"));
    // A write and its removal: a key no real event has, at time 0, forgotten at once.
    let key = format!("check:{:016x}", rand::random::<u64>());
    let written = async {
        s.claim_event(&key, 0).await?;
        s.forget_events_before(1).await
    }
    .await;
    match written {
        Ok(_) => r.ok("Store: writable"),
        Err(e) => r.fail(format!("Store: {shown} is not writable: {e}")),
    }
}
