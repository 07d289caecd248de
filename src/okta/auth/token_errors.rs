//! What each refusal of Okta's token endpoint means for this bot and what to fix, from Okta's
//! OAuth 2.0 error list and RFC 6749 §5.2 / RFC 9449. Branches on the `error` code only; Okta's
//! `error_description` is shown beside it as Okta's own words.

/// The meaning and the fix for a token-endpoint `error`.
pub fn advice(error: &str) -> &'static str {
    match error {
        "invalid_client" => {
            "Okta did not accept the service app's credentials. Check, in this order: \
             `okta.oauth.client_id` is the app's Client ID; the public key registered on the app \
             matches the private key the bot uses (`OKTA_PRIVATE_KEY` or \
             `okta.oauth.private_key_path`) and `okta.oauth.key_id`, when set, is that key's KID; \
             the app's client authentication is Public key / Private key; and this host's clock \
             is right (the signed assertion is valid for five minutes)"
        }
        "invalid_scope" => {
            "the app asked for a scope it has not been granted: grant the scopes named above \
             on the app's Okta API Scopes tab, or remove them from `okta.oauth.scopes`"
        }
        "unauthorized_client" => {
            "the app may not use the client credentials grant: it must be an API Services \
             (service) app with Client Credentials allowed"
        }
        "invalid_dpop_proof" => {
            "Okta refused the DPoP proof: check this host's clock (proofs carry the time they \
             were made); if the app does not require DPoP, turn `okta.oauth.dpop` off"
        }
        "use_dpop_nonce" => {
            "Okta kept asking for a new DPoP nonce and the exchange did not settle: try again; \
             if it persists, check this host's clock"
        }
        "invalid_grant" | "unsupported_grant_type" | "invalid_request" => {
            "Okta refused the token request itself: check `okta.org_url` (the token URL is \
             derived from it) and that the app is a service app using client credentials"
        }
        "access_denied" => {
            "Okta's access policy denied the app a token: check the app's assignment and the \
             authorization server's access policies"
        }
        _ => "check the service app's client id, key and granted scopes in Okta",
    }
}

#[cfg(test)]
mod tests {
    use super::advice;

    #[test]
    fn invalid_client_points_at_credentials_not_scopes() {
        let a = advice("invalid_client");
        for needle in ["client_id", "public key", "KID", "clock"] {
            assert!(a.contains(needle), "{needle}: {a}");
        }
        assert!(!a.contains("okta.roles.read"), "{a}");
        assert!(advice("invalid_scope").contains("Okta API Scopes"));
        assert!(advice("unauthorized_client").contains("Client Credentials"));
        assert!(advice("invalid_dpop_proof").contains("clock"));
        assert!(advice("use_dpop_nonce").contains("nonce"));
        assert!(advice("invalid_grant").contains("okta.org_url"));
    }
}
