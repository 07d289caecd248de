//! The abuse limits (`domain::limits`) at the bot's doors, with the facts read from the store.
//!
//! - At intake, before anything is looked up in Okta (every door: command, shared file, form):
//!   requests per hour, and a day's targets already used up. A quick answer; Okta is not asked.
//! - Just before Okta is asked (`reserve_lookup`): the same, inside the section, and the lookup
//!   is recorded (`okta_lookups`). The hour counts every request that reached Okta, stored or
//!   refused after the lookup (too many users, nothing to reset, …), so refused requests cannot
//!   be repeated without limit; two requests sent together cannot both take the last place.
//! - Just before the request is stored, once its users to reset are known: both again, with the
//!   real count. This is the check that counts; the first only saves Okta calls.
//! - At Approve: the org-wide cap on runs in progress. Not at intake: a request waiting for
//!   approval uses nothing, and the approval message (with its expiry) is the natural queue, so
//!   a request can be prepared during an incident while another run finishes.
//!
//! The second and third checks and the writes they guard (the request row, the approval) run
//! inside one section of the store (`Store::exclusive`, `LIMITS_SECTION`): an in-process lock on
//! SQLite, an advisory lock on PostgreSQL shared by every replica, so two requests or approvals
//! cannot both take the last place, wherever they arrive.

use serde_json::json;

use super::Service;
use crate::domain::ids::{SlackChannelId, SlackUserId};
use crate::domain::limits::{self, Asking, Earlier, LimitRefusal, Limits, DAY_MS};
use crate::domain::request::State;
use crate::slack::render;
use crate::store::{Exclusive, RequestRecord};

/// The store section the limit checks and the writes they allow run in.
pub(crate) const LIMITS_SECTION: &str = "limits";

/// How times are written in a refusal: Slack's date token in messages, plain UTC in the form
/// (whose error texts Slack shows as they are).
pub(crate) type DateWriter = fn(i64) -> String;

pub(crate) const IN_MESSAGES: DateWriter = render::slack_date;
pub(crate) const IN_FORMS: DateWriter = crate::clock::format_utc;

impl Service {
    pub(crate) fn limits(&self) -> Limits {
        let p = &self.config.policy;
        Limits {
            requests_per_hour: p.max_requests_per_hour,
            targets_per_day: p.max_targets_per_day,
            runs_in_progress: p.max_runs_in_progress,
        }
    }

    /// The person's requests per hour and day's targets, before Okta is asked anything. A
    /// refusal is audited and returned as the sentence to show.
    pub(crate) async fn check_limits_at(
        &self,
        channel: &SlackChannelId,
        user: &SlackUserId,
        dry_run: bool,
        date: DateWriter,
    ) -> Result<(), String> {
        let asking = if dry_run {
            Asking::DryRun
        } else {
            Asking::Unresolved
        };
        let refusal = match self.limit_refusal(user.as_str(), asking, None).await {
            Ok(None) => return Ok(()),
            Ok(Some(r)) => r,
            Err(why) => {
                self.refused(channel, user, &why).await;
                return Err(why);
            }
        };
        let why = format!(
            "{} Nothing was looked up or changed.",
            refusal.explain(date)
        );
        self.audit(
            None,
            Some(user.as_str()),
            "request_refused",
            json!({
                "channel": channel.as_str(),
                "why": why,
                "limit": refusal.code(),
                "lifts_at": refusal.lifts_at(),
            }),
        )
        .await;
        Err(why)
    }

    /// The limits once request `id`'s users to reset are known, inside `LIMITS_SECTION` (`gate`):
    /// allowed, the section comes back, to be held until the request is stored. A refusal lets
    /// the section go before it is audited and told to the person (Slack's pacing must not hold
    /// everyone else's requests); `None` means the caller stops (and discards what it staged).
    pub(crate) async fn check_limits_resolved(
        &self,
        id: &str,
        channel: &SlackChannelId,
        user: &SlackUserId,
        asking: Asking,
        gate: Exclusive,
    ) -> Option<Exclusive> {
        let (why, limit, lifts_at) = match self.limit_refusal(user.as_str(), asking, Some(id)).await
        {
            Ok(None) => return Some(gate),
            Ok(Some(r)) => (
                format!("{} Nothing was posted or changed.", r.explain(IN_MESSAGES)),
                Some(r.code()),
                r.lifts_at(),
            ),
            Err(why) => (why, None, None),
        };
        drop(gate);
        self.refuse_request(id, channel, user, &why, limit, lifts_at)
            .await;
        None
    }

    /// Request `id` is about to ask Okta: inside `LIMITS_SECTION`, the limits are checked once
    /// more (counting lookups) and the lookup is recorded, so it counts towards the hour whatever
    /// becomes of the request. False when refused (told and audited): Okta is not asked.
    pub(crate) async fn reserve_lookup(
        &self,
        id: &str,
        channel: &SlackChannelId,
        user: &SlackUserId,
        dry_run: bool,
    ) -> bool {
        let store_down = |e: crate::store::StoreError| {
            tracing::error!(error = %e, "could not record a lookup");
            "The bot's store could not be reached, so your request limits could not be checked. Nothing was looked up or changed; try again shortly.".to_string()
        };
        let asking = if dry_run {
            Asking::DryRun
        } else {
            Asking::Unresolved
        };
        let gate = self
            .store
            .exclusive(LIMITS_SECTION)
            .await
            .map_err(store_down);
        let refused = match gate {
            Err(why) => Some((why, None, None)),
            Ok(gate) => match self.limit_refusal(user.as_str(), asking, Some(id)).await {
                Err(why) => Some((why, None, None)),
                Ok(Some(r)) => Some((
                    format!(
                        "{} Nothing was looked up or changed.",
                        r.explain(IN_MESSAGES)
                    ),
                    Some(r.code()),
                    r.lifts_at(),
                )),
                Ok(None) => {
                    let recorded = self
                        .store
                        .record_lookup(id, user.as_str(), self.now())
                        .await;
                    drop(gate);
                    match recorded {
                        Ok(()) => None,
                        Err(e) => Some((store_down(e), None, None)),
                    }
                }
            },
        };
        let Some((why, limit, lifts_at)) = refused else {
            return true;
        };
        self.refuse_request(id, channel, user, &why, limit, lifts_at)
            .await;
        false
    }

    /// A request refused by a limit (or a store that could not check one): audited with the
    /// limit and when it lifts, and told to the person.
    async fn refuse_request(
        &self,
        id: &str,
        channel: &SlackChannelId,
        user: &SlackUserId,
        why: &str,
        limit: Option<&'static str>,
        lifts_at: Option<i64>,
    ) {
        self.audit(
            Some(id),
            Some(user.as_str()),
            "request_refused",
            json!({"why": why, "limit": limit, "lifts_at": lifts_at}),
        )
        .await;
        self.tell(
            channel.as_str(),
            user.as_str(),
            None,
            &format!("Request {id} was not made: {why}"),
        )
        .await;
    }

    /// `Ok(None)` when the person may make the request; `Err` when the store could not say.
    /// `own`: the request being checked, whose own lookup is not an earlier request.
    async fn limit_refusal(
        &self,
        user: &str,
        asking: Asking,
        own: Option<&str>,
    ) -> Result<Option<LimitRefusal>, String> {
        let now = self.now();
        // The longest window is the day's; the hour's requests are among these.
        let earlier = self
            .store
            .requests_by_since(user, now - DAY_MS)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not read the requester's recent requests");
                "The bot's store could not be read, so your request limits could not be checked. Nothing was looked up or changed; try again shortly.".to_string()
            })?;
        let lookups = self
            .store
            .lookups_by_since(user, now - DAY_MS)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not read the requester's recent lookups");
                "The bot's store could not be read, so your request limits could not be checked. Nothing was looked up or changed; try again shortly.".to_string()
            })?;
        let stored: std::collections::HashSet<&str> =
            earlier.iter().map(|r| r.id.as_str()).collect();
        // Requests that reached Okta and were refused: each counts as a request (no users to
        // reset). A stored request counts by its row (below), not twice.
        let refused_lookups = lookups
            .iter()
            .filter(|(id, _)| !stored.contains(id.as_str()) && Some(id.as_str()) != own)
            .map(|(_, at)| Earlier {
                created_at: *at,
                to_reset: 0,
                dry_run: false,
            });
        // A request withdrawn because its approval message could not be posted (the bot is not
        // in the channel) never reached anyone: it does not count against the person.
        let earlier: Vec<Earlier> = earlier
            .iter()
            .filter(|r| !(r.state == State::Cancelled && r.root_ts.is_none()))
            .map(earlier_of)
            .chain(refused_lookups)
            .collect();
        Ok(limits::check_request(&self.limits(), &earlier, asking, now).err())
    }

    /// At Approve (and at Continue after a canary): refused while `policy.max_runs_in_progress`
    /// runs are approved or running. Returns the lock to hold until the approval is stored; `Err`
    /// is the sentence for the approver (the request stays waiting, or paused).
    pub(crate) async fn check_runs_cap(&self, r: &RequestRecord) -> Result<Exclusive, String> {
        let store_down = |e: crate::store::StoreError| {
            tracing::error!(error = %e, "could not check the runs in progress");
            "The bot's store could not be reached; nothing was decided. Try again shortly."
                .to_string()
        };
        let gate = self
            .store
            .exclusive(LIMITS_SECTION)
            .await
            .map_err(store_down)?;
        let in_progress = self
            .store
            .requests_in_states(&[State::Approved, State::Running])
            .await
            .map_err(store_down)?;
        let ids: Vec<String> = in_progress.into_iter().map(|r| r.id.to_string()).collect();
        match limits::check_runs(&self.limits(), &ids) {
            Ok(()) => Ok(gate),
            // A paused run (canary) waits for its Continue without expiring.
            Err(refusal) if r.state == State::Paused => Err(format!(
                "{} {} was not continued and stays paused; click Continue again once a run has finished.",
                refusal.explain(IN_MESSAGES),
                r.id,
            )),
            Err(refusal) => Err(format!(
                "{} {} was not approved and is still waiting for approval (until {}).",
                refusal.explain(IN_MESSAGES),
                r.id,
                render::slack_date(r.expires_at)
            )),
        }
    }
}

fn earlier_of(r: &RequestRecord) -> Earlier {
    Earlier {
        created_at: r.created_at,
        to_reset: u64::try_from(r.reset_count).unwrap_or(0),
        dry_run: r.dry_run,
    }
}
