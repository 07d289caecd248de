//! The parts of Okta's JSON this bot reads. Unknown fields are ignored; missing optional ones are
//! `None` so a thin list entry is re-read rather than guessed.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct OktaUser {
    pub id: String,
    #[serde(default)]
    pub status: String,
    /// When the status last changed (ISO-8601): tells whether a lost reset call went through.
    #[serde(rename = "statusChanged", default)]
    pub status_changed: Option<String>,
    pub profile: UserProfile,
    #[serde(default)]
    pub credentials: Option<Credentials>,
    #[serde(rename = "_links", default)]
    pub links: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    #[serde(default)]
    pub provider: Option<Provider>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Provider {
    #[serde(rename = "type")]
    pub kind: String,
}

impl OktaUser {
    pub fn provider(&self) -> Option<&str> {
        self.credentials
            .as_ref()
            .and_then(|c| c.provider.as_ref())
            .map(|p| p.kind.as_str())
    }

    /// `statusChanged` as Unix milliseconds, when Okta sent a parseable one.
    pub fn status_changed_ms(&self) -> Option<i64> {
        let t = time::OffsetDateTime::parse(
            self.status_changed.as_deref()?,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
    }

    pub fn display_name(&self) -> String {
        let first = self.profile.first_name.as_deref().unwrap_or("");
        let last = self.profile.last_name.as_deref().unwrap_or("");
        format!("{first} {last}").trim().to_string()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct OktaGroup {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub profile: GroupProfile,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GroupProfile {
    #[serde(default)]
    pub name: String,
}

/// Okta's error body. Only `errorCode` is branched on.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct OktaErrorBody {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_summary: String,
}
