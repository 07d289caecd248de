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

    /// Whether a full user entry carries `_links.resetPassword`: Okta's own word on whether a
    /// reset is allowed (list entries may leave the links out).
    pub fn offers_reset(&self) -> bool {
        self.links
            .as_ref()
            .is_some_and(|l| l.get("resetPassword").is_some())
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
    /// `[{"errorSummary": "…"}, …]`; read loosely, so an odd shape never costs the code.
    #[serde(default)]
    pub error_causes: serde_json::Value,
}

impl OktaErrorBody {
    /// `errorSummary`, followed by each of `errorCauses`' summaries: Okta often puts what was
    /// actually wrong (the attribute, the operator) only in the causes.
    pub fn summary_with_causes(&self) -> String {
        let causes: Vec<&str> = self
            .error_causes
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["errorSummary"].as_str())
            .filter(|c| !c.is_empty())
            .collect();
        if causes.is_empty() {
            self.error_summary.clone()
        } else {
            format!("{} ({})", self.error_summary, causes.join("; "))
        }
    }
}

#[cfg(test)]
mod error_body_tests {
    use super::OktaErrorBody;

    #[test]
    fn causes_follow_the_summary_and_an_odd_shape_keeps_the_code() {
        let b: OktaErrorBody = serde_json::from_str(
            r#"{"errorCode":"E0000031","errorSummary":"Invalid search criteria.","errorCauses":[{"errorSummary":"bad op"},{"errorSummary":"bad attr"}]}"#,
        )
        .unwrap();
        assert_eq!(
            b.summary_with_causes(),
            "Invalid search criteria. (bad op; bad attr)"
        );
        let b: OktaErrorBody = serde_json::from_str(
            r#"{"errorCode":"E0000031","errorSummary":"x","errorCauses":"?"}"#,
        )
        .unwrap();
        assert_eq!(
            (b.error_code.as_str(), b.summary_with_causes().as_str()),
            ("E0000031", "x")
        );
    }
}
