//! DPoP (RFC 9449): a key pair made for this process, whose public half travels in each proof's
//! header. The token endpoint binds the access token to it; every API call then proves possession
//! with a fresh proof carrying the method, the URL and a hash of the token (`ath`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

pub struct DpopKey {
    key: EncodingKey,
    jwk: Jwk,
}

#[derive(Serialize)]
struct Proof<'a> {
    htm: &'a str,
    htu: String,
    iat: i64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ath: Option<String>,
}

impl DpopKey {
    /// A fresh P-256 key pair (never stored: a restart simply binds new tokens to a new key).
    pub fn generate() -> Result<Self, String> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "cannot generate a DPoP key".to_string())?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| "cannot read the DPoP key".to_string())?;
        // Uncompressed point: 0x04 ‖ x (32 bytes) ‖ y (32 bytes).
        let point = pair.public_key().as_ref();
        let jwk = Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: B64.encode(&point[1..33]),
                y: B64.encode(&point[33..65]),
            }),
        };
        Ok(Self {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
        })
    }

    /// A proof for one request. `htu` is the URL without query or fragment.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        now_secs: i64,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<String, String> {
        let mut htu = url.clone();
        htu.set_query(None);
        htu.set_fragment(None);
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        let claims = Proof {
            htm: method,
            htu: htu.to_string(),
            iat: now_secs,
            jti: super::random_jti(),
            nonce,
            ath: access_token.map(access_token_hash),
        };
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| e.to_string())
    }
}

/// `ath`: base64url(SHA-256(access token)).
pub fn access_token_hash(token: &str) -> String {
    B64.encode(Sha256::digest(token.as_bytes()))
}

/// RFC 7638 thumbprint of an EC public key: what a DPoP-bound token is bound to.
pub fn thumbprint(jwk: &Jwk) -> Option<String> {
    let AlgorithmParameters::EllipticCurve(ec) = &jwk.algorithm else {
        return None;
    };
    let crv = match ec.curve {
        EllipticCurve::P256 => "P-256",
        _ => return None,
    };
    let canonical = format!(
        r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
        ec.x, ec.y
    );
    Some(B64.encode(Sha256::digest(canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_carries_the_public_key_method_url_and_token_hash() {
        let k = DpopKey::generate().unwrap();
        let url = Url::parse("https://o.okta.com/api/v1/users?limit=200").unwrap();
        let p = k
            .proof("GET", &url, 1_700_000_000, Some("n1"), Some("tok"))
            .unwrap();
        let header = jsonwebtoken::decode_header(&p).unwrap();
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        let jwk = header.jwk.unwrap();
        assert!(thumbprint(&jwk).is_some());
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let mut v = jsonwebtoken::Validation::new(Algorithm::ES256);
        v.required_spec_claims.clear();
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(&p, &key, &v)
            .unwrap()
            .claims;
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://o.okta.com/api/v1/users");
        assert_eq!(claims["nonce"], "n1");
        assert_eq!(claims["ath"], access_token_hash("tok"));
    }
}
