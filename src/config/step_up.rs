//! `policy.step_up`, `server.public_url` and `[okta.oidc]`: how an Approve (or a Continue) is
//! confirmed by Okta before it counts (see `service::step_up`).

use serde::Deserialize;
use url::Url;

/// How an approval is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepUpMode {
    /// The click counts at once (the behaviour before step-up existed).
    #[default]
    None,
    /// A fresh Okta sign-in in the approver's browser (authorization code + PKCE, `max_age=0`).
    OktaOidc,
    /// An Okta Verify push with number matching (no browser needs to reach the bot).
    OktaVerifyPush,
}

impl StepUpMode {
    pub fn code(self) -> &'static str {
        match self {
            StepUpMode::None => "none",
            StepUpMode::OktaOidc => "okta_oidc",
            StepUpMode::OktaVerifyPush => "okta_verify_push",
        }
    }
}

/// The Okta OIDC Web app approvers sign in to (`[okta.oidc]`). Its client secret comes only
/// from `OKTA_OIDC_CLIENT_SECRET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    pub client_id: String,
    /// The org authorization server (`https://example.okta.com`) or a custom one
    /// (`https://example.okta.com/oauth2/<id>`); no trailing slash.
    pub issuer: String,
    /// When set, sent as `acr_values` and required as the ID token's `acr`.
    pub acr_values: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOidc {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    acr_values: Option<String>,
}

pub(super) fn mode(raw: Option<&str>, p: &mut Vec<String>) -> StepUpMode {
    match raw.map(str::trim) {
        None | Some("none") => StepUpMode::None,
        Some("okta_oidc") => StepUpMode::OktaOidc,
        Some("okta_verify_push") => StepUpMode::OktaVerifyPush,
        Some(other) => {
            p.push(format!(
                "policy.step_up: `{other}` is not a way to confirm approvals; use \"none\", \"okta_oidc\" (a fresh Okta sign-in, recommended) or \"okta_verify_push\""
            ));
            StepUpMode::None
        }
    }
}

/// `server.public_url`: where approvers' browsers reach the bot (https, or http on loopback).
pub(super) fn public_url(raw: Option<&str>, p: &mut Vec<String>) -> Option<Url> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    let url = super::service_url("server.public_url", raw, p)?;
    if url.query().is_some() || url.fragment().is_some() {
        p.push("server.public_url: give the bare base URL, without `?` or `#`".into());
        return None;
    }
    Some(url)
}

/// `[okta.oidc]`, checked when present; required (with `server.public_url`) for `okta_oidc`.
pub(super) fn oidc(
    raw: Option<&RawOidc>,
    step_up: StepUpMode,
    public_url: Option<&Url>,
    p: &mut Vec<String>,
) -> Option<OidcConfig> {
    if step_up == StepUpMode::OktaOidc {
        if public_url.is_none() {
            p.push("server.public_url is not set: policy.step_up = \"okta_oidc\" sends approvers' browsers to {server.public_url}/auth/okta/start; set it to the bot's address as browsers reach it, e.g. \"https://okta-reset.example.com\"".into());
        }
        if raw.is_none() {
            p.push("okta.oidc is missing: policy.step_up = \"okta_oidc\" needs [okta.oidc] with client_id and issuer (an Okta OIDC Web app; see the README's step-up set-up)".into());
        }
    }
    let raw = raw?;
    if raw.client_id.trim().is_empty() {
        p.push("okta.oidc.client_id is empty: copy the OIDC Web app's Client ID from Okta (Applications → your app → General)".into());
    }
    let issuer = raw.issuer.trim().trim_end_matches('/').to_string();
    if issuer.is_empty() {
        p.push("okta.oidc.issuer is empty: use your org's URL (\"https://example.okta.com\") or a custom authorization server (\"https://example.okta.com/oauth2/<id>\")".into());
    } else {
        super::service_url("okta.oidc.issuer", &issuer, p);
    }
    let acr_values = raw
        .acr_values
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Some(OidcConfig {
        client_id: raw.client_id.trim().to_string(),
        issuer,
        acr_values,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Secrets, StepUpMode};

    const EXAMPLE: &str = include_str!("../../config/okta-reset.example.toml");

    fn with(extra_server: &str, oidc: &str, step_up: &str) -> String {
        EXAMPLE
            .replacen(
                "listen = \"127.0.0.1:3000\"",
                &format!("listen = \"127.0.0.1:3000\"\n{extra_server}"),
                1,
            )
            .replacen("[policy]", &format!("{oidc}\n[policy]"), 1)
            .replacen("step_up = \"none\"", step_up, 1)
    }

    const OIDC: &str =
        "[okta.oidc]\nclient_id = \"0oaWEB\"\nissuer = \"https://example.okta.com/\"\n";
    const PUBLIC: &str = "public_url = \"https://okta-reset.example.com\"";

    #[test]
    fn the_default_is_none_and_oidc_reads_every_key() {
        assert_eq!(
            Config::from_toml(EXAMPLE).unwrap().policy.step_up,
            StepUpMode::None
        );
        let c = Config::from_toml(&with(
            PUBLIC,
            &format!("{OIDC}acr_values = \"urn:okta:loa:2fa:any\"\n"),
            "step_up = \"okta_oidc\"",
        ))
        .unwrap();
        assert_eq!(c.policy.step_up, StepUpMode::OktaOidc);
        assert_eq!(
            c.server.public_url.unwrap().as_str(),
            "https://okta-reset.example.com/"
        );
        let o = c.okta.oidc.unwrap();
        assert_eq!(o.client_id, "0oaWEB");
        assert_eq!(
            o.issuer, "https://example.okta.com",
            "trailing slash dropped"
        );
        assert_eq!(o.acr_values.as_deref(), Some("urn:okta:loa:2fa:any"));
    }

    #[test]
    fn oidc_without_public_url_or_app_is_refused_naming_the_key() {
        let p = Config::from_toml(&with("", "", "step_up = \"okta_oidc\""))
            .unwrap_err()
            .problems;
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("server.public_url is not set"), "{p:?}");
        assert!(p[1].starts_with("okta.oidc is missing"), "{p:?}");
        let p = Config::from_toml(&with(PUBLIC, "", "step_up = \"okta_oauth\""))
            .unwrap_err()
            .problems;
        assert!(
            p[0].starts_with("policy.step_up: `okta_oauth` is not"),
            "{p:?}"
        );
    }

    #[test]
    fn oidc_without_the_client_secret_is_refused_at_start_up() {
        let c = Config::from_toml(&with(PUBLIC, OIDC, "step_up = \"okta_oidc\"")).unwrap();
        let base = [
            ("SLACK_SIGNING_SECRET", "s"),
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            ("OKTA_API_TOKEN", "t"),
        ];
        let read = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Secrets::from_env_with(move |n| {
                vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())
            })
            .unwrap()
        };
        let p = read(&base).check_for(&c).unwrap_err().problems;
        assert!(
            p[0].starts_with("OKTA_OIDC_CLIENT_SECRET is not set"),
            "{p:?}"
        );
        let mut vars = base.to_vec();
        vars.push(("OKTA_OIDC_CLIENT_SECRET", "shh"));
        let s = read(&vars);
        assert!(s.check_for(&c).is_ok());
        assert!(!format!("{s:?}").contains("shh"), "the secret is redacted");
    }
}
