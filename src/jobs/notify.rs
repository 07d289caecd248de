//! `policy.notify_users`: after (never before) each user's reset, one Slack DM telling them what
//! happened (`slack::render_notice`). A task beside the run follows the journal: every target
//! whose outcome is `reset` and who has no notice yet is looked up by their Okta primary email
//! (`users.lookupByEmail`), their DM opened (`conversations.open`) and the message posted.
//!
//! - The resets never wait for Slack: the task reads outcomes from the store; the run only waits
//!   for it once its resets are all done, so the summary can say who was told.
//! - Paced to Slack's limits: one person every `PACE` (`users.lookupByEmail` and
//!   `conversations.open` are Tier 3, about 50 a minute); a 429 holds the method for everyone
//!   (`slack::outbound::retry`).
//! - Journalled: a notice row is written (`sending`) before the first Slack call for a person, so
//!   a restart never DMs anyone twice. A row a dead process left `sending` is reported as not
//!   notified, delivery unknown — a second DM is worse than a missing one, which the thread and
//!   the results file list.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::journal;
use crate::service::Service;
use crate::slack::outbound::Lookup;
use crate::slack::render_notice;
use crate::store::{NoticeOutcome, NoticeState, Outcome, RequestRecord, TargetRecord};

/// Between two people: the Tier 3 pace of `users.lookupByEmail` and `conversations.open`.
pub const PACE: Duration = Duration::from_millis(1200);

/// The notifier of one run (nothing when `policy.notify_users` is off).
pub(super) struct Notices {
    task: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

/// Starts telling the run's reset users, as their resets are journalled.
pub(super) fn start(svc: &Arc<Service>, r: &RequestRecord) -> Notices {
    if !svc.config.policy.notify_users || r.dry_run {
        return Notices { task: None };
    }
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(follow(svc.clone(), r.clone(), rx));
    Notices {
        task: Some((tx, task)),
    }
}

impl Notices {
    /// Called once the run's resets are all journalled: tells the rest, then returns. A bot
    /// shutting down stops at once; the resumed run tells whoever is left.
    pub(super) async fn finish(self) {
        if let Some((tx, task)) = self.task {
            let _ = tx.send(true);
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the DM task failed");
            }
        }
    }
}

async fn follow(svc: Arc<Service>, r: RequestRecord, mut done: watch::Receiver<bool>) {
    let approvers = approvers(&svc, &r).await;
    let mut pace = tokio::time::interval(PACE);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Read before the store: a reset journalled before `done` is then in `todo`.
        let finished = *done.borrow_and_update();
        let Ok(todo) =
            journal::durably(&svc, "targets to tell", || untold(&svc, r.id.as_str())).await
        else {
            return; // shutting down
        };
        if todo.is_empty() {
            if finished {
                return;
            }
            tokio::select! {
                _ = done.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(300)) => {}
            }
            continue;
        }
        for t in todo {
            if svc.is_stopping() {
                return;
            }
            pace.tick().await;
            tell(&svc, &r, &approvers, &t).await;
        }
    }
}

/// Targets reset and not yet given a notice.
async fn untold(svc: &Service, id: &str) -> crate::store::StoreResult<Vec<TargetRecord>> {
    let notices = svc.store.notices(id).await?;
    let told: std::collections::HashSet<i64> = notices.iter().map(|n| n.seq).collect();
    Ok(svc
        .store
        .targets(id)
        .await?
        .into_iter()
        .filter(|t| t.outcome == Outcome::Reset && !told.contains(&t.seq))
        .collect())
}

/// Who approved: every approver of a two-approver request, else the decision's actor.
async fn approvers(svc: &Service, r: &RequestRecord) -> Vec<String> {
    let mut all = svc.sign_offs_for(r).await.approvers;
    if let Some(d) = &r.decision {
        if !all.iter().any(|a| a == d.actor.as_str()) {
            all.push(d.actor.to_string());
        }
    }
    all
}

async fn tell(svc: &Service, r: &RequestRecord, approvers: &[String], t: &TargetRecord) {
    let claim = || svc.store.claim_notice(r.id.as_str(), t.seq, svc.now());
    match journal::durably(svc, "DM journal", claim).await {
        Ok(true) => {}
        _ => return, // already told (another replica, an earlier pass) or shutting down
    }
    let sent = send(svc, r, approvers, t).await;
    let o = match &sent {
        Ok((user, channel, ts)) => NoticeOutcome {
            state: NoticeState::Notified,
            slack_user: Some(user),
            dm_channel: Some(channel),
            dm_ts: Some(ts),
            reason: None,
        },
        Err((user, why)) => NoticeOutcome {
            state: NoticeState::NotNotified,
            reason: Some(why),
            slack_user: user.as_deref(),
            dm_channel: None,
            dm_ts: None,
        },
    };
    let settle = || svc.store.settle_notice(r.id.as_str(), t.seq, &o, svc.now());
    if journal::durably(svc, "DM outcome", settle).await.is_err() {
        return;
    }
    let (action, detail) = match &sent {
        Ok((user, _, _)) => ("user_notified", json!({"slack_user": user})),
        Err((user, why)) => ("user_not_notified", json!({"slack_user": user, "why": why})),
    };
    let mut detail = detail;
    detail["okta_id"] = json!(t.target.okta_id);
    detail["login"] = json!(t.target.login);
    svc.audit(Some(r.id.as_str()), None, action, detail).await;
}

type Sent = (String, String, String);
type NotSent = (Option<String>, String);

/// Finds the person, opens the DM and posts: their Slack id, the DM channel and ts; or why not.
async fn send(
    svc: &Service,
    r: &RequestRecord,
    approvers: &[String],
    t: &TargetRecord,
) -> Result<Sent, NotSent> {
    let Some(email) = t.target.email.as_deref().filter(|e| e.contains('@')) else {
        return Err((None, "Okta shows no primary email for this user".into()));
    };
    let user = match svc.slack.lookup_by_email(email).await {
        Ok(Lookup::Found { deleted: true, id }) => {
            return Err((Some(id), "their Slack account is deactivated".into()))
        }
        Ok(Lookup::Found { id, .. }) => id,
        Ok(Lookup::NoAccount) => return Err((None, "no Slack account has their email".into())),
        Err(e) => return Err((None, format!("Slack could not look them up ({})", e.detail))),
    };
    let channel = svc.slack.open_dm(&user).await.map_err(|e| {
        (
            Some(user.clone()),
            format!("Slack could not open a DM ({})", e.detail),
        )
    })?;
    let msg = render_notice::notice(
        r.id.as_str(),
        r.requester.as_str(),
        approvers,
        r.channel_id.as_str(),
    );
    let ts = svc
        .slack
        .post(&channel, None, &msg)
        .await
        .map_err(|e| (Some(user.clone()), format!("the DM failed ({})", e.detail)))?;
    Ok((user, channel, ts))
}
