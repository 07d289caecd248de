//! The application layer: what the bot does with a slash command, a button click, an approved
//! request. Handlers call in here; nothing in here knows about HTTP.

mod approvers;
mod attach;
mod canary;
mod decide;
mod events;
#[cfg(test)]
pub(crate) mod fakes;
mod form;
mod groups;
mod intake;
mod limits;
pub mod resolve;
mod slash;
pub mod step_up;
#[cfg(test)]
mod tests;
mod unexpected;
mod upload;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::policy::Policy;
use crate::okta::OktaApi;
use crate::slack::outbound::{Message, SlackApi};
use crate::slack::render;
use crate::store::{AuditEvent, RequestRecord, Store};

pub use decide::{Action, Decision as DecisionKind};
pub use events::UPLOAD_HINT;
pub use groups::GROUP_CACHE_SECS;
pub use slash::SlashCommand;

/// What the service hands the runner side (`jobs::run_loop`, wired in app.rs) through the runs
/// channel. The service never calls into `jobs`: it only says what is to be done there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOrder {
    /// Run (or resume, or continue) this approved request.
    Run(String),
    /// This paused run was cancelled: post its summary, under the run's lease like the sweep
    /// (it has already left its runner).
    SummaryAfterPause(String),
}

pub struct Service {
    pub config: Arc<Config>,
    pub policy: Policy,
    pub store: Arc<dyn Store>,
    /// The Okta org (the real client, or a fake in tests).
    pub(crate) okta: Arc<dyn OktaApi>,
    /// Slack's Web API (the real client, or a fake in tests).
    pub(crate) slack: Arc<dyn SlackApi>,
    pub clock: Arc<dyn Clock>,
    runs: mpsc::UnboundedSender<RunOrder>,
    /// Cancellation flags of runs in progress in this process.
    cancels: Mutex<HashMap<String, Arc<AtomicBool>>>,
    /// Set on shutdown: runs stop taking new users and stay `running`, to resume on restart.
    stopping: AtomicBool,
    /// This process's name on run leases. With SQLite there is one replica, so the name is
    /// stable and a restarted bot takes its runs back at once; with PostgreSQL it is unique.
    pub replica: String,
    /// Runs this process is executing (a run is never executed twice in one process).
    running: Mutex<std::collections::HashSet<String>>,
    /// The bot's own Slack user id (`auth.test`), asked when the first event needs it.
    bot_user: tokio::sync::OnceCell<String>,
    /// Members of the Slack user groups the allowlists name, read briefly (`groups.rs`).
    groups: groups::GroupCache,
}

impl Service {
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        okta: Arc<dyn OktaApi>,
        slack: Arc<dyn SlackApi>,
        clock: Arc<dyn Clock>,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<RunOrder>) {
        let policy = Policy {
            team: config.slack.team_id.clone(),
            channels: config.slack.channels.clone(),
            requesters: config.policy.requesters.clone(),
            approvers: config.policy.approvers.clone(),
            max_targets: config.policy.max_targets,
            require_reason: config.policy.require_reason,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let svc = Arc::new(Self {
            config: config.clone(),
            policy,
            store,
            okta,
            slack,
            clock,
            runs: tx,
            cancels: Mutex::new(HashMap::new()),
            stopping: AtomicBool::new(false),
            replica: replica_name(&config.store.url),
            running: Mutex::new(Default::default()),
            bot_user: tokio::sync::OnceCell::new(),
            groups: Default::default(),
        });
        (svc, rx)
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// An audit event stamped now.
    pub fn audit_event(
        &self,
        request_id: Option<&str>,
        actor: Option<&str>,
        action: &str,
        detail: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent {
            at: self.now(),
            request_id: request_id.map(str::to_string),
            actor: actor.map(str::to_string),
            action: action.to_string(),
            detail,
        }
    }

    /// Appends an audit event about something that is not itself a change (a refusal, a message
    /// posted, a step the runner took). A failure is logged loudly. Changes people make — a
    /// decision, an approval, a cancel, a Continue, a new request — fail closed instead: their
    /// event is written in the same store transaction as the change (`Store::transition_audited`
    /// and the like), or before anything is done (`audit_first`).
    pub async fn audit(
        &self,
        request_id: Option<&str>,
        actor: Option<&str>,
        action: &str,
        detail: serde_json::Value,
    ) {
        let event = self.audit_event(request_id, actor, action, detail);
        if let Err(e) = self.store.append_audit(&event).await {
            tracing::error!(action, error = %e, "could not write the audit event");
        }
    }

    /// Appends an audit event that must be on record before the step it announces happens:
    /// `Err` (logged) means the step must not happen.
    pub async fn audit_first(
        &self,
        request_id: Option<&str>,
        actor: Option<&str>,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), ()> {
        let event = self.audit_event(request_id, actor, action, detail);
        self.store.append_audit(&event).await.map_err(|e| {
            tracing::error!(action, error = %e, "could not write the audit event; the step is not taken");
        })
    }

    /// An ephemeral message to one person (refusals, answers to `status`).
    pub async fn tell(&self, channel: &str, user: &str, thread_ts: Option<&str>, text: &str) {
        if let Err(e) = self
            .slack
            .ephemeral(channel, user, thread_ts, &Message::text(text))
            .await
        {
            tracing::warn!(error = %e, "could not send an ephemeral message");
        }
    }

    /// The ts of a request's root message. A decision or a cancel can arrive in the moment between
    /// the root being posted and its ts being stored: wait briefly for it rather than speak
    /// outside the thread (or leave the root unedited).
    async fn thread_root(&self, id: &str, known: Option<&str>) -> Option<String> {
        if let Some(ts) = known {
            return Some(ts.to_string());
        }
        for _ in 0..30 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            if let Ok(Some(r)) = self.store.get_request(id).await {
                if r.root_ts.is_some() {
                    return r.root_ts;
                }
            }
        }
        None
    }

    /// Posts in a request's thread (or the channel if it has no root at all).
    pub async fn say_in_thread(&self, r: &RequestRecord, msg: &Message) -> Option<String> {
        let root = self.thread_root(r.id.as_str(), r.root_ts.as_deref()).await;
        match self
            .slack
            .post(r.channel_id.as_str(), root.as_deref(), msg)
            .await
        {
            Ok(ts) => Some(ts),
            Err(e) => {
                tracing::warn!(request = %r.id, error = %e, "could not post in the thread");
                None
            }
        }
    }

    /// Re-renders the root message from the stored state.
    pub async fn refresh_root(&self, id: &str) {
        let Ok(Some(r)) = self.store.get_request(id).await else {
            return;
        };
        let Some(ts) = self.thread_root(id, r.root_ts.as_deref()).await else {
            return;
        };
        let targets = match self.store.targets(id).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(request = id, error = %e, "could not read targets");
                return;
            }
        };
        let sign_offs = self.sign_offs_for(&r).await;
        let mut msg = render::approval_with(&r, &targets, &sign_offs, self.now());
        step_up::note_on(&mut msg, self.step_up_note(&r).await);
        if let Err(e) = self.slack.update(r.channel_id.as_str(), &ts, &msg).await {
            tracing::warn!(request = id, error = %e, "could not update the root message");
        }
    }

    /// Hands an approved request to the runner.
    pub fn enqueue_run(&self, id: &str) {
        if self.runs.send(RunOrder::Run(id.to_string())).is_err() {
            tracing::error!(
                request = id,
                "the runner is gone; the run will start at the next start-up"
            );
        }
    }

    /// Hands a cancelled paused run's summary to the runner side.
    pub(crate) fn enqueue_summary_after_pause(&self, id: &str) {
        if self
            .runs
            .send(RunOrder::SummaryAfterPause(id.to_string()))
            .is_err()
        {
            tracing::error!(
                request = id,
                "the runner is gone; the summary waits for the sweep"
            );
        }
    }

    pub(crate) fn cancel_flag(&self, id: &str) -> Arc<AtomicBool> {
        self.cancels
            .lock()
            .expect("cancel map")
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    /// Asks runs to stop after the calls in flight; they resume at the next start.
    pub fn begin_shutdown(&self) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Marks `id` as executing here; false if it already is.
    pub(crate) fn begin_running(&self, id: &str) -> bool {
        self.running
            .lock()
            .expect("running set")
            .insert(id.to_string())
    }

    pub(crate) fn end_running(&self, id: &str) {
        self.running.lock().expect("running set").remove(id);
    }

    pub fn lease_ms(&self) -> i64 {
        self.config.store.lease_secs as i64 * 1000
    }

    pub(crate) fn forget_cancel_flag(&self, id: &str) {
        self.cancels.lock().expect("cancel map").remove(id);
    }

    /// Records the policy in force at start-up with its digest and the previous start's digest,
    /// so a policy changed between restarts shows in the log (and in a warning).
    pub async fn audit_policy(&self) {
        let p = &self.policy;
        let policy = json!({
            "team": p.team.as_str(),
            "channels": p.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "requesters": p.requesters.entries(),
            "approvers": p.approvers.entries(),
            "max_targets": p.max_targets,
            "require_reason": p.require_reason,
            "approval_ttl_minutes": self.config.policy.approval_ttl_minutes,
            "max_requests_per_hour": self.config.policy.max_requests_per_hour,
            "max_targets_per_day": self.config.policy.max_targets_per_day,
            "max_runs_in_progress": self.config.policy.max_runs_in_progress,
        });
        // Only when set: a policy without them keeps the digest it had before they existed.
        let mut policy = policy;
        for (key, value) in [
            (
                "two_approvers_above",
                self.config.policy.two_approvers_above,
            ),
            ("canary_users", self.config.policy.canary_users),
        ] {
            if let Some(v) = value {
                policy[key] = json!(v);
            }
        }
        let digest = crate::domain::audit_chain::digest(&policy);
        let previous = match self.store.last_audit("policy_loaded").await {
            Ok(last) => last.and_then(|r| {
                r.event
                    .detail
                    .get("digest")
                    .and_then(|d| d.as_str())
                    .map(str::to_string)
            }),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the previous policy from the audit log");
                None
            }
        };
        let changed = previous.as_deref().is_some_and(|p| p != digest);
        if changed {
            tracing::warn!(%digest, "the policy changed since the last start (see the audit log)");
        }
        self.audit(
            None,
            None,
            "policy_loaded",
            json!({
                "policy": policy,
                "digest": digest,
                "previous_digest": previous,
                "changed": changed,
            }),
        )
        .await;
    }
}

fn replica_name(store_url: &str) -> String {
    if store_url.starts_with("sqlite:") {
        "local".to_string()
    } else {
        use rand::Rng;
        format!(
            "replica-{}-{:08x}",
            std::process::id(),
            rand::thread_rng().gen::<u32>()
        )
    }
}
