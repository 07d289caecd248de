//! Key pairs for the simulated org's service apps and the tests that sign as them, generated at
//! run time, once per process, so no private key is compiled into the product. They protect
//! nothing: the simulator registers the public halves, tests hand the private halves (PEM,
//! PKCS#8) to okta-reset as `OKTA_PRIVATE_KEY`.

use std::sync::OnceLock;

use base64::Engine;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

/// A private key and its public half, both PEM.
struct Pair {
    private: String,
    public: String,
}

fn rsa_pair() -> Pair {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key generation");
    Pair {
        private: key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8")
            .to_string(),
        public: key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("SPKI"),
    }
}

fn ec_pair() -> Pair {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .expect("P-256 key generation");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("P-256 key");
    // SubjectPublicKeyInfo for id-ecPublicKey on prime256v1, then the uncompressed point
    // (ring gives the point only; the DER header is fixed for this curve).
    const SPKI_P256_HEADER: [u8; 26] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    let spki = [&SPKI_P256_HEADER[..], pair.public_key().as_ref()].concat();
    Pair {
        private: pem("PRIVATE KEY", pkcs8.as_ref()),
        public: pem("PUBLIC KEY", &spki),
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn rsa() -> &'static Pair {
    static KEY: OnceLock<Pair> = OnceLock::new();
    KEY.get_or_init(rsa_pair)
}

fn ec() -> &'static Pair {
    static KEY: OnceLock<Pair> = OnceLock::new();
    KEY.get_or_init(ec_pair)
}

/// RSA 2048 (RS256), registered by [`super::SimOAuthApp::rsa`].
pub fn rsa_private() -> &'static str {
    &rsa().private
}

pub fn rsa_public() -> &'static str {
    &rsa().public
}

/// EC P-256 (ES256), registered by [`super::SimOAuthApp::ec`].
pub fn ec_private() -> &'static str {
    &ec().private
}

pub fn ec_public() -> &'static str {
    &ec().public
}

/// Registered nowhere: assertions it signs are refused.
pub fn unregistered_rsa_private() -> &'static str {
    static KEY: OnceLock<Pair> = OnceLock::new();
    &KEY.get_or_init(rsa_pair).private
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, EncodingKey};

    #[test]
    fn generated_pairs_parse_as_the_bot_and_the_simulator_read_them() {
        assert!(EncodingKey::from_rsa_pem(super::rsa_private().as_bytes()).is_ok());
        assert!(DecodingKey::from_rsa_pem(super::rsa_public().as_bytes()).is_ok());
        assert!(EncodingKey::from_ec_pem(super::ec_private().as_bytes()).is_ok());
        assert!(DecodingKey::from_ec_pem(super::ec_public().as_bytes()).is_ok());
        assert!(DecodingKey::from_rsa_pem(super::ec_public().as_bytes()).is_err());
        assert_ne!(super::rsa_private(), super::unregistered_rsa_private());
    }
}
