//! Reading Okta's System Log (`listLogEvents`, `GET /api/v1/logs`, scope `okta.logs.read`):
//! the password resets of one run's window, following `Link` pagination on the org's host only.
//!
//! The request is *bounded* (`since` and `until` both given): Okta then returns a `next` link only
//! while more events remain, so paging ends. A polling request (no `until`) would always carry a
//! `next` link and never end.

use serde_json::Value;

use super::{next_link, OktaClient};
use crate::okta::system_log::RESET_EVENT;
use crate::okta::OktaError;

/// Events per page (Okta allows up to 1000).
const PAGE: &str = "1000";
/// Pages read at most: 50,000 resets in one run's window is far past any run the bot makes.
const MAX_PAGES: usize = 50;

/// One `user.account.reset_password` event, as far as the proof needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetEvent {
    /// `target[].id`: the users the event is about.
    pub target_ids: Vec<String>,
    /// `client.userAgent.rawUserAgent`: who called (the bot names its request there).
    pub raw_user_agent: String,
}

impl OktaClient {
    /// Every `user.account.reset_password` event published in `[since_ms, until_ms)`.
    pub async fn reset_events(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<ResetEvent>, OktaError> {
        let mut url = self.api(&["logs"]);
        url.query_pairs_mut()
            .append_pair("since", &crate::clock::format_rfc3339(since_ms))
            .append_pair("until", &crate::clock::format_rfc3339(until_ms))
            .append_pair("filter", &format!("eventType eq \"{RESET_EVENT}\""))
            .append_pair("sortOrder", "ASCENDING")
            .append_pair("limit", PAGE);
        let mut events = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(u) = next {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(OktaError::Protocol(format!(
                    "the System Log kept paging past {MAX_PAGES} pages; stopped reading"
                )));
            }
            let (page, headers) = self.get_json::<Vec<Value>>(&u).await?;
            events.extend(page.iter().filter_map(reset_event));
            next = match next_link(&headers) {
                Some(n) => Some(self.same_org(&n, "the System Log's next link")?),
                None => None,
            };
        }
        Ok(events)
    }

    /// Whether the bot may read the System Log: one bounded read of the last minute.
    pub async fn may_read_logs(&self) -> Result<(), OktaError> {
        let now = self.now_ms();
        let mut url = self.api(&["logs"]);
        url.query_pairs_mut()
            .append_pair("since", &crate::clock::format_rfc3339(now - 60_000))
            .append_pair("until", &crate::clock::format_rfc3339(now))
            .append_pair("limit", "1");
        self.get_json::<Vec<Value>>(&url).await.map(|_| ())
    }
}

/// The fields of a reset event the proof reads; an event without them is not counted.
fn reset_event(v: &Value) -> Option<ResetEvent> {
    if v["eventType"] != RESET_EVENT {
        return None;
    }
    let target_ids = v["target"]
        .as_array()?
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect();
    let raw_user_agent = v["client"]["userAgent"]["rawUserAgent"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Some(ResetEvent {
        target_ids,
        raw_user_agent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_reset_events_with_targets_are_read() {
        let e = json!({"eventType": RESET_EVENT, "target": [{"id": "00u1"}],
            "client": {"userAgent": {"rawUserAgent": "okta-reset/1 (request R-1)"}}});
        assert_eq!(
            reset_event(&e),
            Some(ResetEvent {
                target_ids: vec!["00u1".into()],
                raw_user_agent: "okta-reset/1 (request R-1)".into()
            })
        );
        assert_eq!(
            reset_event(&json!({"eventType": "user.session.clear", "target": []})),
            None
        );
        assert_eq!(reset_event(&json!({"eventType": RESET_EVENT})), None);
    }
}
