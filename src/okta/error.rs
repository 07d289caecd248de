//! Okta failures, classified by HTTP status and `errorCode` (never by message text).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OktaError {
    /// 401 `E0000011`: the token is invalid, expired or revoked. Stops a run at once.
    Unauthorized,
    /// The OAuth token endpoint refused the service app (`invalid_client`, `invalid_scope`, …),
    /// with Okta's own reason. Stops a run at once.
    AuthRefused { error: String, description: String },
    /// 403 `E0000006` (or any 403 that is not about the user's status): the token lacks the
    /// permission. Systemic: stops a run at once.
    Forbidden { code: String, summary: String },
    /// The user's status does not allow the operation (403 `E0000038`/`E0000017`, 400 `E0000001`).
    StatusRefused { code: String, summary: String },
    /// 404 `E0000007`.
    NotFound,
    /// 400 with any other code (`E0000031` bad search, `E0000028` missing parameter, …).
    BadRequest { code: String, summary: String },
    /// Still rate-limited after waiting as long as we are willing to.
    RateLimited,
    /// 5xx after all retries.
    Server { status: u16, code: String },
    /// Timeout or connection failure after all retries.
    Transport(String),
    /// A reset whose answer did not come in time: it may or may not have been applied. The run
    /// asks Okta before sending it again.
    TimedOut,
    /// An answer we cannot use (bad JSON, a `Link` to another host).
    Protocol(String),
    /// Anything else.
    Other {
        status: u16,
        code: String,
        summary: String,
    },
}

impl OktaError {
    /// Errors that mean every further call will fail the same way: stop the run.
    pub fn is_systemic(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized | Self::Forbidden { .. } | Self::AuthRefused { .. }
        )
    }

    pub fn classify(status: u16, code: &str, summary: &str) -> Self {
        let owned = || (code.to_string(), summary.to_string());
        match (status, code) {
            (401, _) => Self::Unauthorized,
            (403, "E0000038" | "E0000017") | (400, "E0000001") => {
                let (code, summary) = owned();
                Self::StatusRefused { code, summary }
            }
            (403, _) => {
                let (code, summary) = owned();
                Self::Forbidden { code, summary }
            }
            (404, _) => Self::NotFound,
            (400, _) => {
                let (code, summary) = owned();
                Self::BadRequest { code, summary }
            }
            (429, _) => Self::RateLimited,
            (s, _) if s >= 500 => Self::Server {
                status: s,
                code: code.to_string(),
            },
            (s, _) => {
                let (code, summary) = owned();
                Self::Other {
                    status: s,
                    code,
                    summary,
                }
            }
        }
    }
}

impl fmt::Display for OktaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The same words for both kinds of credentials: under OAuth a 401 has already cost one
            // token renewal, so it is the app (its key, its grant) that Okta no longer accepts.
            Self::Unauthorized => f.write_str(
                "Okta rejected the bot's credentials (E0000011): the API token, or the OAuth service app's token, is invalid, expired or revoked",
            ),
            Self::AuthRefused { error, description } => write!(
                f,
                "Okta's token endpoint refused the service app ({error}: {description}): {}",
                crate::okta::auth::token_errors::advice(error)
            ),
            Self::Forbidden { code, summary } => write!(
                f,
                "Okta refused the call ({code}: {summary}): the token's admin lacks the permission"
            ),
            Self::StatusRefused { code, summary } => {
                write!(
                    f,
                    "Okta refused because of the user's status ({code}: {summary})"
                )
            }
            Self::NotFound => f.write_str("not found in Okta"),
            Self::BadRequest { code, summary } => {
                write!(f, "Okta refused the request ({code}: {summary})")
            }
            Self::RateLimited => f.write_str("still rate-limited by Okta after waiting"),
            Self::Server { status, code } => {
                write!(f, "Okta answered HTTP {status} {code} after retries")
            }
            Self::Transport(e) => write!(f, "could not reach Okta after retries: {e}"),
            Self::TimedOut => f.write_str("Okta did not answer in time"),
            Self::Protocol(e) => write!(f, "unexpected answer from Okta: {e}"),
            Self::Other {
                status,
                code,
                summary,
            } => write!(f, "Okta answered HTTP {status} ({code}: {summary})"),
        }
    }
}

impl std::error::Error for OktaError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_status_and_error_code() {
        assert_eq!(
            OktaError::classify(401, "E0000011", "x"),
            OktaError::Unauthorized
        );
        assert!(OktaError::classify(401, "E0000011", "x").is_systemic());
        assert!(OktaError::classify(403, "E0000006", "x").is_systemic());
        for (s, c) in [(403, "E0000038"), (403, "E0000017"), (400, "E0000001")] {
            let e = OktaError::classify(s, c, "x");
            assert!(matches!(e, OktaError::StatusRefused { .. }), "{s} {c}");
            assert!(!e.is_systemic());
        }
        assert_eq!(
            OktaError::classify(404, "E0000007", ""),
            OktaError::NotFound
        );
        assert!(matches!(
            OktaError::classify(503, "", ""),
            OktaError::Server { status: 503, .. }
        ));
    }
}
