//! The service app's private key: a PEM file (or the `OKTA_PRIVATE_KEY` variable) holding an RSA
//! key (RS256) or an EC P-256 key (ES256). Checked at start-up by signing a probe, so a key that
//! does not parse stops the bot with a plain message instead of failing the first request.

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::secret::{ExposeSecret, Secret};

/// A private key ready to sign client assertions. Never printed.
#[derive(Clone)]
pub struct SigningKey {
    pub alg: Algorithm,
    pub kid: Option<String>,
    key: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?}, redacted)", self.alg)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{source_name} is not a PEM private key: expected `-----BEGIN PRIVATE KEY-----` (PKCS#8, RSA or EC P-256) or `-----BEGIN RSA PRIVATE KEY-----`")]
    NotPem { source_name: String },
    #[error("{source_name} holds an `EC PRIVATE KEY` (SEC1); convert it to PKCS#8 with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`")]
    Sec1 { source_name: String },
    #[error("{source_name} holds a {kind} key that cannot sign RS256 or ES256: use an RSA key (2048 bits or more) or an EC P-256 key")]
    Unusable {
        source_name: String,
        kind: &'static str,
    },
}

impl SigningKey {
    /// Parses `pem` (from `source_name`, named in errors) and proves it can sign.
    pub fn from_pem(
        pem: &Secret,
        kid: Option<String>,
        source_name: &str,
    ) -> Result<Self, KeyError> {
        let text = pem.expose_secret().trim();
        let named = || source_name.to_string();
        if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            return Err(KeyError::Sec1 {
                source_name: named(),
            });
        }
        if !text.contains("-----BEGIN") || !text.contains("PRIVATE KEY-----") {
            return Err(KeyError::NotPem {
                source_name: named(),
            });
        }
        let (alg, key, kind) = if let Ok(k) = EncodingKey::from_rsa_pem(text.as_bytes()) {
            (Algorithm::RS256, k, "RSA")
        } else if let Ok(k) = EncodingKey::from_ec_pem(text.as_bytes()) {
            (Algorithm::ES256, k, "EC")
        } else {
            return Err(KeyError::NotPem {
                source_name: named(),
            });
        };
        let signing = Self { alg, kid, key };
        // ring checks the key only when it signs: a truncated RSA key or a P-384 key fails here.
        signing
            .sign(&serde_json::json!({"probe": true}))
            .map_err(|_| KeyError::Unusable {
                source_name: named(),
                kind,
            })?;
        Ok(signing)
    }

    pub fn sign<T: serde::Serialize>(
        &self,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::okta::test_keys;

    #[test]
    fn rsa_and_ec_keys_pick_their_algorithm() {
        let rsa = SigningKey::from_pem(&Secret::from(test_keys::rsa_private()), None, "k").unwrap();
        assert_eq!(rsa.alg, Algorithm::RS256);
        let ec = SigningKey::from_pem(
            &Secret::from(test_keys::ec_private()),
            Some("kid1".into()),
            "k",
        )
        .unwrap();
        assert_eq!(ec.alg, Algorithm::ES256);
        assert!(!format!("{ec:?}").contains("BEGIN"));
    }

    #[test]
    fn a_key_that_does_not_parse_is_named_with_the_fix() {
        let e = SigningKey::from_pem(&Secret::from("hello"), None, "OKTA_PRIVATE_KEY").unwrap_err();
        assert_eq!(
            e.to_string(),
            "OKTA_PRIVATE_KEY is not a PEM private key: expected `-----BEGIN PRIVATE KEY-----` (PKCS#8, RSA or EC P-256) or `-----BEGIN RSA PRIVATE KEY-----`"
        );
        let broken = test_keys::rsa_private().replace("MII", "XXX");
        assert!(matches!(
            SigningKey::from_pem(&Secret::from(broken), None, "k"),
            Err(KeyError::NotPem { .. })
        ));
        let sec1 = "-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----";
        assert!(
            SigningKey::from_pem(&Secret::from(sec1), None, "/etc/k.pem")
                .unwrap_err()
                .to_string()
                .contains("openssl pkcs8 -topk8")
        );
        let public_only = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----";
        assert!(matches!(
            SigningKey::from_pem(&Secret::from(public_only), None, "k"),
            Err(KeyError::NotPem { .. })
        ));
    }
}
