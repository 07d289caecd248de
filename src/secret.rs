//! Secrets read from the environment, as the `secrecy` crate's `SecretString`: `Debug` prints
//! `[REDACTED]`, there is no `Display` (so a secret cannot reach a log line or an error message
//! through `{}`), and the memory is zeroed on drop. `expose_secret()` is called only where a
//! secret is sent to the service it belongs to.

pub use secrecy::ExposeSecret;

/// A secret string (`secrecy::SecretString`), named for this code base's call sites.
pub type Secret = secrecy::SecretString;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::from("xoxb-very-secret");
        assert!(!format!("{s:?}").contains("very-secret"));
        assert!(!format!("{:?}", Some(s.clone())).contains("very-secret"));
        assert_eq!(s.expose_secret(), "xoxb-very-secret");
    }
}
