//! Okta-confirmed approvals (`policy.step_up`): a world configured for them, and the approver's
//! browser (it follows the bot's and the simulated Okta's redirects by hand, mapping the bot's
//! `server.public_url` to its real address).

use okta_reset::config::{Config, OidcConfig, StepUpMode};
use okta_reset::sim::okta::oidc::{SIM_OIDC_CLIENT_ID, SIM_OIDC_CLIENT_SECRET, SIM_PUBLIC_URL};

use crate::helpers::*;

/// `policy.step_up = "okta_oidc"` against the simulated org's authorization server.
pub fn oidc(c: &mut Config) {
    c.policy.step_up = StepUpMode::OktaOidc;
    c.server.public_url = Some(url::Url::parse(SIM_PUBLIC_URL).unwrap());
    c.okta.oidc = Some(OidcConfig {
        client_id: SIM_OIDC_CLIENT_ID.into(),
        issuer: format!(
            "{}/oauth2/default",
            c.okta.org_url.as_str().trim_end_matches('/')
        ),
        acr_values: None,
    });
}

pub fn spawn_oidc() -> Spawn {
    spawn_with()
        .config(oidc)
        .env("OKTA_OIDC_CLIENT_SECRET", SIM_OIDC_CLIENT_SECRET)
}

/// One answer seen by the browser.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl TestApp {
    /// The newest "Confirm in Okta" link sent to `user`.
    pub async fn okta_link(&self, user: &str) -> String {
        self.ephemeral_to(user, "Confirm in Okta").await;
        let e = self
            .w
            .slack
            .ephemerals()
            .into_iter()
            .rev()
            .find(|e| e.user == user && e.text.contains("Confirm in Okta"))
            .unwrap();
        let blocks = e.blocks.to_string();
        let at = blocks.find("\"url\":\"").expect("a link button") + 7;
        let end = blocks[at..].find('"').unwrap() + at;
        blocks[at..end].replace("\\/", "/")
    }

    /// One GET without following redirects; the bot's public URL goes to its real address.
    pub async fn browse(&self, url: &str) -> Page {
        let real = url.replace(SIM_PUBLIC_URL, &self.w.app.base_url());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r = http.get(&real).send().await.expect("the page answers");
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
            body: r.text().await.unwrap(),
        }
    }

    /// Opens the link and follows Okta's sign-in; returns (the authorize redirect, the callback
    /// URL, the bot's final page).
    pub async fn confirm_in_okta(&self, link: &str) -> (Page, String, Page) {
        let start = self.browse(link).await;
        assert_eq!(start.status, 302, "start answered {start:?}");
        let okta = self.browse(start.location.as_deref().unwrap()).await;
        assert_eq!(okta.status, 302, "Okta answered {okta:?}");
        let callback = okta.location.clone().unwrap();
        let done = self.browse(&callback).await;
        (start, callback, done)
    }

    /// Clicks Approve as `user` and completes the confirmation; returns the bot's page.
    pub async fn approve_in_okta(&self, user: &str, p: &Posted) -> Page {
        let before = self.ephemerals_to(user);
        self.click(user, p, "approve").await;
        self.wait_more_ephemerals(user, before).await;
        let link = self.okta_link(user).await;
        self.confirm_in_okta(&link).await.2
    }

    pub fn ephemerals_to(&self, user: &str) -> usize {
        self.w
            .slack
            .ephemerals()
            .iter()
            .filter(|e| e.user == user)
            .count()
    }

    pub async fn wait_more_ephemerals(&self, user: &str, before: usize) {
        let u = user.to_string();
        self.w
            .slack
            .wait_for("another ephemeral", WAIT, move |s| {
                s.ephemerals().iter().filter(|e| e.user == u).count() > before
            })
            .await
            .unwrap();
    }

    /// Nothing was recorded for `id`: still pending, no decision, no sign-off, no reset.
    pub async fn assert_not_recorded(&self, id: &str) {
        let r = self.record(id).await;
        assert_eq!(r.state, okta_reset::domain::request::State::PendingApproval);
        assert_eq!(r.decision, None);
        assert!(self.sign_offs(id).await.is_empty());
        assert!(self.w.okta.reset_calls().is_empty());
    }

    /// The `step_up_failed` reasons audited for `id`.
    pub async fn step_up_failures(&self, id: &str) -> Vec<String> {
        self.audit_events(id)
            .await
            .into_iter()
            .filter(|e| e.action == "step_up_failed")
            .map(|e| e.detail["reason"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}
