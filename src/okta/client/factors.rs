//! Okta Verify push for step-up confirmations: `listFactors`, `verifyFactor` with a number
//! matching challenge, and `getFactorTransactionStatus` (the poll link, on the org's host only).

use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::{OktaClient, OktaError, Repeat};

/// A push sent to the approver's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushChallenge {
    /// The number the person must choose in Okta Verify.
    pub correct_answer: String,
    pub poll: Url,
}

impl OktaClient {
    /// The user's active Okta Verify push factor (`factorType` push, `provider` OKTA, `status`
    /// ACTIVE), if any (`GET /api/v1/users/{id}/factors`).
    pub async fn push_factor(&self, user_id: &str) -> Result<Option<String>, OktaError> {
        let (factors, _) = self
            .get_json::<Vec<Value>>(&self.api(&["users", user_id, "factors"]))
            .await?;
        Ok(factors
            .iter()
            .find(|f| {
                f["factorType"] == "push" && f["provider"] == "OKTA" && f["status"] == "ACTIVE"
            })
            .and_then(|f| f["id"].as_str())
            .map(str::to_string))
    }

    /// Sends a number matching push (`POST …/factors/{factorId}/verify` with
    /// `{"useNumberMatchingChallenge": true}`). Sent once: after a 5xx or a lost answer Okta may
    /// already have pushed, so the error is returned instead of a second push.
    pub async fn verify_push(
        &self,
        user_id: &str,
        factor_id: &str,
    ) -> Result<PushChallenge, OktaError> {
        let url = self.api(&["users", user_id, "factors", factor_id, "verify"]);
        let a = self
            .call_with(
                Method::POST,
                &url,
                Some(br#"{"useNumberMatchingChallenge":true}"#),
                Repeat::Never,
            )
            .await?;
        let v: Value = serde_json::from_slice(&a.body)
            .map_err(|e| OktaError::Protocol(format!("cannot read Okta's JSON: {e}")))?;
        let answer = match &v["_embedded"]["challenge"]["correctAnswer"] {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            _ => {
                return Err(OktaError::Protocol(
                    "Okta's push answer carries no number matching challenge (correctAnswer)"
                        .into(),
                ))
            }
        };
        let poll = v["_links"]["poll"]["href"]
            .as_str()
            .ok_or_else(|| OktaError::Protocol("Okta's push answer has no poll link".into()))?;
        Ok(PushChallenge {
            correct_answer: answer,
            poll: self.same_org(poll, "the push's poll link")?,
        })
    }

    /// The push's `factorResult` now: WAITING, SUCCESS, REJECTED, TIMEOUT, …
    pub async fn push_result(&self, poll: &Url) -> Result<String, OktaError> {
        let (v, _) = self.get_json::<Value>(poll).await?;
        v["factorResult"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| OktaError::Protocol("Okta's push status has no factorResult".into()))
    }
}
