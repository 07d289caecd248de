//! What the bot recorded, read back for assertions: a request's audit events, sign-offs and
//! targets from the store, and Okta's reset log.

use okta_reset::store::TargetClass;
use okta_reset::store::{AuditEvent, SignOff, TargetRecord};

use crate::helpers::TestApp;

impl TestApp {
    /// The request's audit events, oldest first.
    pub async fn audit_events(&self, id: &str) -> Vec<AuditEvent> {
        self.w
            .app
            .service
            .store
            .audit_events(Some(id))
            .await
            .unwrap()
    }

    /// The actions of the request's audit events, oldest first.
    pub async fn audit_actions(&self, id: &str) -> Vec<String> {
        self.audit_events(id)
            .await
            .into_iter()
            .map(|e| e.action)
            .collect()
    }

    /// Each of `actions` is among the request's audit events.
    pub async fn assert_audited(&self, id: &str, actions: &[&str]) {
        let recorded = self.audit_actions(id).await;
        for a in actions {
            assert!(
                recorded.iter().any(|x| x == a),
                "audit lacks {a}: {recorded:?}"
            );
        }
    }

    /// The approvals recorded so far for a request that needs more than one.
    pub async fn sign_offs(&self, id: &str) -> Vec<SignOff> {
        self.w.app.service.store.sign_offs(id).await.unwrap()
    }

    /// Every target row of the request (reset, skipped or failed).
    pub async fn targets(&self, id: &str) -> Vec<TargetRecord> {
        self.w.app.service.store.targets(id).await.unwrap()
    }

    /// Each target the request classified `reset` was reset exactly once in Okta; returns those
    /// targets.
    pub async fn assert_each_target_reset_once(&self, id: &str) -> Vec<TargetRecord> {
        let to_reset: Vec<TargetRecord> = self
            .targets(id)
            .await
            .into_iter()
            .filter(|t| t.target.classification == TargetClass::Reset)
            .collect();
        for t in &to_reset {
            assert_eq!(
                self.w
                    .okta
                    .reset_count(t.target.okta_id.as_deref().unwrap()),
                1,
                "{:?}",
                t.target.login
            );
        }
        to_reset
    }

    /// Okta's reset log holds exactly `n` resets, nobody twice.
    pub fn assert_okta_reset_each_once(&self, n: usize) {
        assert_eq!(self.w.okta.reset_calls().len(), n);
        self.assert_nobody_reset_twice();
    }

    /// Nobody is in Okta's reset log more than once.
    pub fn assert_nobody_reset_twice(&self) {
        let mut ids: Vec<String> = self
            .w
            .okta
            .reset_calls()
            .into_iter()
            .map(|c| c.user_id)
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "someone was reset twice");
    }
}
