//! The contract for pending Okta confirmations: single use across replicas, one live push per
//! approver, a newer link superseding an older one. Run on both backends like the rest.

use super::*;

pub(super) fn step_up(token: &str, user: &str, state: StepUpState) -> StepUpRecord {
    StepUpRecord {
        token_hash: token.into(),
        request_id: "R-00000001".parse().unwrap(),
        kind: SignOffKind::Approve,
        method: "okta_oidc".into(),
        digest: "abc".into(),
        slack_user: user.parse().unwrap(),
        channel_id: "C0001".parse().unwrap(),
        okta_user: "00uBOB".into(),
        okta_login: "bob@example.com".into(),
        clicked_at: 1_100,
        expires_at: 1_400,
        state,
        oidc_state_hash: None,
        nonce_hash: None,
        pkce_verifier: None,
        amr: None,
        auth_time: None,
    }
}

#[tokio::test]
async fn a_confirmation_is_claimed_once_and_found_by_its_oidc_state() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let s = step_up("t1", "U0002", StepUpState::Issued);
        assert!(store.create_step_up(&s, true, 1_100).await.unwrap());
        assert_eq!(
            store.step_ups("R-00000001").await.unwrap(),
            vec![s.clone()],
            "every field round-trips"
        );
        let StepUpClaim::Claimed(c) = store
            .claim_step_up(
                StepUpKey::Token("t1"),
                StepUpState::Issued,
                StepUpState::Started,
                1_150,
            )
            .await
            .unwrap()
        else {
            panic!("first claim wins");
        };
        assert_eq!(c.state, StepUpState::Started);
        // The link used twice: the second finds it spent.
        assert!(matches!(
            store
                .claim_step_up(
                    StepUpKey::Token("t1"),
                    StepUpState::Issued,
                    StepUpState::Started,
                    1_160
                )
                .await
                .unwrap(),
            StepUpClaim::Spent(r) if r.state == StepUpState::Started
        ));
        assert_eq!(
            store
                .claim_step_up(
                    StepUpKey::Token("nope"),
                    StepUpState::Issued,
                    StepUpState::Started,
                    1_160
                )
                .await
                .unwrap(),
            StepUpClaim::Unknown
        );
        store
            .set_step_up_oidc("t1", "state-hash", "nonce-hash", "verifier")
            .await
            .unwrap();
        let StepUpClaim::Claimed(c) = store
            .claim_step_up(
                StepUpKey::OidcState("state-hash"),
                StepUpState::Started,
                StepUpState::Checking,
                1_200,
            )
            .await
            .unwrap()
        else {
            panic!("the callback claims it by state");
        };
        assert_eq!(
            (c.nonce_hash.as_deref(), c.pkce_verifier.as_deref(), c.state),
            (Some("nonce-hash"), Some("verifier"), StepUpState::Checking)
        );
        // A replayed callback finds it spent.
        assert!(matches!(
            store
                .claim_step_up(
                    StepUpKey::OidcState("state-hash"),
                    StepUpState::Started,
                    StepUpState::Checking,
                    1_210
                )
                .await
                .unwrap(),
            StepUpClaim::Spent(_)
        ));
        store
            .settle_step_up(
                "t1",
                StepUpState::Confirmed,
                Some("pwd mfa"),
                Some(1_190),
                1_220,
            )
            .await
            .unwrap();
        let all = store.step_ups("R-00000001").await.unwrap();
        assert_eq!(all[0].state, StepUpState::Confirmed);
        assert_eq!(all[0].amr.as_deref(), Some("pwd mfa"));
        assert_eq!(all[0].auth_time, Some(1_190));
        assert_eq!(all[0].pkce_verifier, None, "the verifier is not kept");
        assert!(store.step_ups("R-NOPE0000").await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn one_live_confirmation_per_approver_unless_replaced() {
    for (store, _dir, _) in backends().await {
        seeded(&store).await;
        let first = step_up("p1", "U0002", StepUpState::Started);
        assert!(store.create_step_up(&first, false, 1_100).await.unwrap());
        // A second push while the first is live: nothing written.
        let second = step_up("p2", "U0002", StepUpState::Started);
        assert!(!store.create_step_up(&second, false, 1_200).await.unwrap());
        assert_eq!(store.step_ups("R-00000001").await.unwrap().len(), 1);
        // Another approver is not affected.
        let other = step_up("p3", "U0003", StepUpState::Started);
        assert!(store.create_step_up(&other, false, 1_200).await.unwrap());
        // Once the first has expired, a new one may start.
        assert!(store.create_step_up(&second, false, 1_400).await.unwrap());
        // A new link replaces the live one, which is then superseded.
        let third = step_up("p4", "U0002", StepUpState::Issued);
        assert!(store.create_step_up(&third, true, 1_300).await.unwrap());
        let states: Vec<(String, StepUpState)> = store
            .step_ups("R-00000001")
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.token_hash, s.state))
            .collect();
        assert!(states.contains(&("p2".into(), StepUpState::Superseded)));
        assert!(states.contains(&("p4".into(), StepUpState::Issued)));
        assert!(states.contains(&("p3".into(), StepUpState::Started)));
    }
}
