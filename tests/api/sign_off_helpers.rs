//! Sign-off steps beyond a single click: two approvers at once, Continue on a run paused after
//! its canary, and Approve on a request that has expired.

use okta_reset::domain::request::State;
use okta_reset::sim::slack::SimMessage;

use crate::helpers::{Posted, TestApp, APPROVER, APPROVER_2, WAIT};

impl TestApp {
    /// Both approvers click Approve on `p` at the same moment.
    pub async fn approve_at_once(&self, p: &Posted) {
        tokio::join!(
            self.click(APPROVER, p, "approve"),
            self.click(APPROVER_2, p, "approve")
        );
    }

    /// Waits for the message carrying the Continue button (a run paused after its canary).
    pub async fn wait_continue_button(&self, p: &Posted) -> SimMessage {
        let has = |m: &SimMessage| {
            m.thread_ts.as_deref() == Some(p.ts.as_str())
                && m.blocks.to_string().contains("\"action_id\":\"continue\"")
        };
        self.w
            .slack
            .wait_for("a Continue button in the thread", WAIT, |s| {
                s.messages().iter().any(has)
            })
            .await
            .unwrap();
        self.w.slack.messages().into_iter().find(has).unwrap()
    }

    /// Clicks Continue on `button` (from `wait_continue_button`).
    pub async fn click_continue(&self, user: &str, button: &SimMessage, p: &Posted) {
        self.click_message(user, &button.ts, "continue", &p.id)
            .await;
    }

    /// `approver` clicks Approve on an expired request: told to ask for a new one, and the request
    /// ends expired with no decision.
    pub async fn assert_approval_refused_as_expired(&self, approver: &str, p: &Posted) {
        self.click(approver, p, "approve").await;
        let msg = self.ephemeral_to(approver, "expired").await;
        assert!(
            msg.contains("ask the requester to make a new request"),
            "{msg}"
        );
        let r = self.wait_state(&p.id, State::Expired).await;
        assert!(r.decision.is_none());
    }
}
