//! Okta-confirmed approvals with `policy.step_up = "okta_oidc"`: the click records nothing; the
//! approval counts only after a fresh Okta sign-in by the approver's own Okta account, checked
//! end to end against the simulated org's authorization server. Every bad input: a clear answer
//! on the page and in Slack, `step_up_failed` audited, nothing recorded.

use okta_reset::domain::request::State;
use okta_reset::sim::okta::oidc::{SignInChoice, Tamper, SIM_OIDC_CLIENT_ID, SIM_PUBLIC_URL};
use okta_reset::sim::okta::{SimOrg, SimUser};

use crate::helpers::*;
use crate::step_up_helpers::*;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Bob (U0002) clicks Approve and gets his link; nothing is recorded yet.
async fn clicked(app: &TestApp) -> (Posted, String) {
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let link = app.okta_link(APPROVER).await;
    app.assert_not_recorded(&p.id).await;
    (p, link)
}

/// The confirmation is refused with `needle` on the page, in Slack and in the audit log, and
/// nothing is recorded.
async fn assert_refused(app: &TestApp, p: &Posted, page: &Page, needle: &str) {
    assert!(
        page.body.contains(needle),
        "page lacks {needle:?}: {}",
        page.body
    );
    assert!(page.status >= 400, "{page:?}");
    let told = app.ephemeral_to(APPROVER, "Okta did not confirm").await;
    assert!(told.contains(&p.id), "{told}");
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
    let failures = app.step_up_failures(&p.id).await;
    assert!(failures.iter().any(|f| f.contains(needle)), "{failures:?}");
}

#[tokio::test]
async fn an_approval_counts_only_after_a_fresh_okta_sign_in() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    assert!(
        link.starts_with(&format!("{SIM_PUBLIC_URL}/auth/okta/start?t=")),
        "{link}"
    );
    let text = app.ephemeral_to(APPROVER, "Confirm in Okta").await;
    assert!(
        text.contains("bob@example.com") && text.contains(&p.id),
        "{text}"
    );

    let (start, _, done) = app.confirm_in_okta(&link).await;
    // What the bot asked Okta for.
    let q = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = q.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["scope"], "openid");
    assert_eq!(q["client_id"], SIM_OIDC_CLIENT_ID);
    assert_eq!(
        q["redirect_uri"],
        format!("{SIM_PUBLIC_URL}/auth/okta/callback")
    );
    assert_eq!(q["max_age"], "0");
    assert_eq!(q["login_hint"], "bob@example.com");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(!q["state"].is_empty() && !q["nonce"].is_empty());
    assert!(!q.contains_key("acr_values"));

    assert_eq!(done.status, 200, "{done:?}");
    assert!(
        done.body.contains(&format!(
            "Approved {} for 2 users. You can close this tab.",
            p.id
        )),
        "{}",
        done.body
    );
    app.wait_state(&p.id, State::Completed).await;
    let r = app.record(&p.id).await;
    assert_eq!(r.decision.unwrap().actor.as_str(), APPROVER);
    let line = app.wait_thread(&p, "confirmed in Okta").await;
    assert!(
        line.contains("🔐 Approved by <@U0002> — confirmed in Okta (mfa, <!date^"),
        "{line}"
    );
    app.wait_root_contains(&p, "confirmed in Okta (mfa,").await;
    let ev = app
        .audit_events(&p.id)
        .await
        .into_iter()
        .find(|e| e.action == "step_up_confirmed")
        .expect("audited");
    let bob = app.w.okta.user_id_by_login("bob@example.com").unwrap();
    assert_eq!(ev.detail["okta_user"], bob.as_str());
    assert_eq!(ev.detail["amr"], serde_json::json!(["pwd", "mfa", "otp"]));
    assert!(ev.detail["auth_time"].as_i64().unwrap() > 0);
    assert!(ev.detail.get("acr").is_some());
    assert_eq!(ev.detail["id_token_sha256"].as_str().unwrap().len(), 64);
    app.assert_audited(&p.id, &["step_up_started", "step_up_confirmed", "approved"])
        .await;
}

#[tokio::test]
async fn another_okta_user_signing_in_is_refused() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("carol@example.com"));
    let (p, link) = clicked(&app).await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_refused(&app, &p, &done, "a different Okta user signed in").await;
}

#[tokio::test]
async fn a_sign_in_older_than_the_click_is_refused() {
    let app = spawn_oidc().start().await;
    app.w.okta.oidc().sign_in(SignInChoice::User {
        login: "bob@example.com".into(),
        auth_time: Some(now_secs() - 600),
        amr: vec!["pwd".into()],
        acr: None,
    });
    let (p, link) = clicked(&app).await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_refused(&app, &p, &done, "Okta did not sign you in again").await;
}

#[tokio::test]
async fn a_link_works_once() {
    let app = spawn_oidc().start().await;
    app.w.okta.oidc().sign_in(SignInChoice::Deny);
    let (p, link) = clicked(&app).await;
    let first = app.browse(&link).await;
    assert_eq!(first.status, 302);
    let again = app.browse(&link).await;
    assert_eq!(again.status, 410);
    assert_refused(&app, &p, &again, "This confirmation link was already used").await;
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    let app = spawn_oidc().manual_clock().start().await;
    let (p, link) = clicked(&app).await;
    app.clock.as_ref().unwrap().advance_secs(5 * 60 + 1);
    let page = app.browse(&link).await;
    assert_eq!(page.status, 410);
    assert_refused(&app, &p, &page, "This confirmation link has expired").await;
    assert!(
        app.w.okta.oidc().authorize_calls().is_empty(),
        "never sent to Okta"
    );
}

#[tokio::test]
async fn an_unknown_link_is_refused() {
    let app = spawn_oidc().start().await;
    let p = app.request(ASK_LEE_AND_MOSS).await;
    let page = app
        .browse(&format!("{SIM_PUBLIC_URL}/auth/okta/start?t=not-a-token"))
        .await;
    assert_eq!(page.status, 404);
    assert!(
        page.body.contains("This confirmation link is not known"),
        "{}",
        page.body
    );
    app.assert_not_recorded(&p.id).await;
    let empty = app
        .browse(&format!("{SIM_PUBLIC_URL}/auth/okta/start"))
        .await;
    assert_eq!(empty.status, 400);
    assert!(
        empty.body.contains("no confirmation token"),
        "{}",
        empty.body
    );
}

#[tokio::test]
async fn a_replayed_callback_changes_nothing() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    let (_, callback, done) = app.confirm_in_okta(&link).await;
    assert_eq!(done.status, 200, "{done:?}");
    app.wait_state(&p.id, State::Completed).await;
    // The run is marked complete before its summary is posted: wait for that too.
    app.wait_thread(&p, "Run complete").await;
    app.settle().await;
    let before = app.snapshot().await;
    let again = app.browse(&callback).await;
    assert_eq!(again.status, 409);
    assert!(
        again.body.contains("already used (a replayed callback)"),
        "{}",
        again.body
    );
    app.settle().await;
    app.assert_nothing_changed_since(&before).await;
    assert_eq!(app.w.okta.reset_calls().len(), 2, "each user reset once");
}

#[tokio::test]
async fn an_altered_state_is_refused() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    let start = app.browse(&link).await;
    let okta = app.browse(start.location.as_deref().unwrap()).await;
    let callback = okta.location.unwrap();
    let altered = callback.replace("state=", "state=x");
    let page = app.browse(&altered).await;
    assert_eq!(page.status, 400);
    assert!(
        page.body
            .contains("does not match any confirmation in progress"),
        "{}",
        page.body
    );
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
    let all = app.w.app.service.store.audit_events(None).await.unwrap();
    assert!(all.iter().any(|e| e.action == "step_up_failed"
        && e.detail["reason"]
            .as_str()
            .unwrap()
            .contains("does not match")));
}

#[tokio::test]
async fn okta_answering_access_denied_records_nothing() {
    let app = spawn_oidc().start().await;
    app.w.okta.oidc().sign_in(SignInChoice::Deny);
    let (p, link) = clicked(&app).await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_eq!(done.status, 403);
    assert_refused(&app, &p, &done, "Okta answered access_denied").await;
}

/// The ID token spoilt as `how` is refused with `needle`.
async fn spoilt_id_token(how: Tamper, needle: &str) -> TestApp {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    app.w.okta.oidc().tamper(Some(how));
    let (p, link) = clicked(&app).await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_refused(&app, &p, &done, needle).await;
    app
}

#[tokio::test]
async fn an_id_token_with_a_bad_signature_is_refused() {
    spoilt_id_token(Tamper::BadSignature, "signature is not valid").await;
}

#[tokio::test]
async fn an_id_token_for_another_app_is_refused() {
    spoilt_id_token(
        Tamper::Audience("0oaOTHERAPP".into()),
        "the ID token is for another app",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    spoilt_id_token(
        Tamper::Issuer("https://evil.example.com".into()),
        "the ID token comes from another issuer",
    )
    .await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    spoilt_id_token(Tamper::Expired, "the ID token has expired").await;
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    spoilt_id_token(
        Tamper::Nonce("someone-elses-nonce".into()),
        "nonce does not match this confirmation",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_signing_key_is_looked_up_once_then_refused() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    // A first confirmation reads the JWKS (the cache starts empty) and succeeds.
    let a = app.request_nth(1, ASK_LEE_AND_MOSS).await;
    assert_eq!(app.approve_in_okta(APPROVER, &a).await.status, 200);
    assert_eq!(app.w.okta.oidc().jwks_reads(), 1);
    // A token under a kid the JWKS does not list: read again once, still unknown, refused.
    app.w.okta.oidc().tamper(Some(Tamper::UnknownKid));
    let b = app
        .request_nth(2, r#"user:c03.nash@contractors.example.com reason:"y""#)
        .await;
    let page = app.approve_in_okta(APPROVER, &b).await;
    assert_eq!(page.status, 403);
    assert!(
        page.body
            .contains("signed with a key the issuer does not publish"),
        "{}",
        page.body
    );
    assert_eq!(
        app.w.okta.oidc().jwks_reads(),
        2,
        "one fresh read, not more"
    );
    app.settle().await;
    let r = app.record(&b.id).await;
    assert_eq!((r.state, r.decision), (State::PendingApproval, None));
    let nash = app
        .w
        .okta
        .user_id_by_login("c03.nash@contractors.example.com")
        .unwrap();
    assert_eq!(app.w.okta.reset_count(&nash), 0);
    assert!(app
        .step_up_failures(&b.id)
        .await
        .iter()
        .any(|f| f.contains("does not publish")));
}

#[tokio::test]
async fn a_slack_email_matching_no_okta_account_is_refused_at_the_click() {
    let mut org = SimOrg::demo();
    org.users.retain(|u| u.login != "bob@example.com");
    let app = spawn_oidc().org(org).start().await;
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "No single Okta account").await;
    assert_eq!(
        msg,
        "No single Okta account matches your Slack email (no Okta account has it as its login or email); nothing was recorded."
    );
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
    assert!(app.w.okta.oidc().authorize_calls().is_empty());
    app.assert_audited(&p.id, &["decision_refused"]).await;
}

#[tokio::test]
async fn a_slack_email_matching_several_okta_accounts_is_refused_at_the_click() {
    let mut org = SimOrg::demo();
    org.users.retain(|u| u.login != "bob@example.com");
    let org = org
        .user(SimUser::new("bob.a@corp.example.com", "Bob", "A").email("bob@example.com"))
        .user(SimUser::new("bob.b@corp.example.com", "Bob", "B").email("bob@example.com"));
    let app = spawn_oidc().org(org).start().await;
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "No single Okta account").await;
    assert!(
        msg.contains("(2 Okta accounts have it as their email)"),
        "{msg}"
    );
    app.settle().await;
    app.assert_not_recorded(&p.id).await;
}

#[tokio::test]
async fn a_request_denied_while_the_confirmation_is_pending_stays_denied() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    app.click(APPROVER_2, &p, "deny").await;
    app.wait_state(&p.id, State::Denied).await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_eq!(done.status, 409);
    assert!(
        done.body.contains("was already denied by &lt;@U0003&gt;"),
        "{}",
        done.body
    );
    app.settle().await;
    let r = app.record(&p.id).await;
    assert_eq!(r.state, State::Denied);
    assert_eq!(r.decision.unwrap().actor.as_str(), APPROVER_2);
    assert!(app.w.okta.reset_calls().is_empty());
    assert_eq!(app.step_up_failures(&p.id).await.len(), 1);
}

#[tokio::test]
async fn a_request_cancelled_while_the_confirmation_is_pending_stays_cancelled() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    app.wait_state(&p.id, State::Cancelled).await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_eq!(done.status, 409, "{done:?}");
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Cancelled);
    assert!(app.w.okta.reset_calls().is_empty());
    assert_eq!(app.step_up_failures(&p.id).await.len(), 1);
}

#[tokio::test]
async fn a_request_expired_while_the_confirmation_is_pending_stays_expired() {
    let app = spawn_oidc()
        .manual_clock()
        .config(|c| {
            oidc(c);
            c.policy.approval_ttl_minutes = 1;
        })
        .start()
        .await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    app.clock.as_ref().unwrap().advance_secs(61);
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_eq!(done.status, 409, "{done:?}");
    assert!(done.body.contains("has expired"), "{}", done.body);
    app.settle().await;
    assert_eq!(app.record(&p.id).await.state, State::Expired);
    assert!(app.w.okta.reset_calls().is_empty());
}

#[tokio::test]
async fn a_sign_in_for_request_a_cannot_approve_request_b() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let a = app.request_nth(1, ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &a, "approve").await;
    let link_a = app.okta_link(APPROVER).await;
    let b = app
        .request_nth(2, r#"user:c03.nash@contractors.example.com reason:"y""#)
        .await;
    let before = app.ephemerals_to(APPROVER);
    app.click(APPROVER, &b, "approve").await;
    app.wait_more_ephemerals(APPROVER, before).await;
    let link_b = app.okta_link(APPROVER).await;
    assert_ne!(link_a, link_b);
    // Both sign-ins happen; B's code is then presented with A's state.
    let start_a = app.browse(&link_a).await;
    let okta_a = app.browse(start_a.location.as_deref().unwrap()).await;
    let start_b = app.browse(&link_b).await;
    let okta_b = app.browse(start_b.location.as_deref().unwrap()).await;
    let q = |u: &str, k: &str| {
        url::Url::parse(u)
            .unwrap()
            .query_pairs()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
            .into_owned()
    };
    let cb_a = okta_a.location.unwrap();
    let cb_b = okta_b.location.unwrap();
    let mixed = format!(
        "{SIM_PUBLIC_URL}/auth/okta/callback?code={}&state={}",
        q(&cb_b, "code"),
        q(&cb_a, "state")
    );
    let page = app.browse(&mixed).await;
    assert_eq!(page.status, 403, "{page:?}");
    assert!(
        page.body
            .contains("Okta refused the sign-in code: invalid_grant"),
        "{}",
        page.body
    );
    app.settle().await;
    app.assert_not_recorded(&a.id).await;
    app.assert_not_recorded(&b.id).await;
}

#[tokio::test]
async fn a_confirmation_started_before_the_targets_changed_is_refused() {
    let app = spawn_oidc().start().await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let (p, link) = clicked(&app).await;
    // The stored snapshot changes after the click (its digest no longer matches).
    let url = format!(
        "sqlite://{}/okta-reset.db",
        app.w.store_dir.path().display()
    );
    let raw = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE requests SET digest = 'changed' WHERE id = ?1")
        .bind(&p.id)
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let (_, _, done) = app.confirm_in_okta(&link).await;
    assert_refused(&app, &p, &done, "changed after you clicked").await;
}

#[tokio::test]
async fn deny_needs_no_confirmation() {
    let app = spawn_oidc().start().await;
    let p = app.request(ASK_LEE_AND_MOSS).await;
    app.click(APPROVER, &p, "deny").await;
    app.wait_state(&p.id, State::Denied).await;
    assert!(app.w.okta.oidc().authorize_calls().is_empty());
}

#[tokio::test]
async fn each_of_two_approvals_needs_its_own_okta_sign_in() {
    let app = spawn_oidc()
        .config(|c| {
            oidc(c);
            c.policy.two_approvers_above = Some(1);
        })
        .start()
        .await;
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("bob@example.com"));
    let p = app.request(ASK_LEE_AND_MOSS).await;
    let first = app.approve_in_okta(APPROVER, &p).await;
    assert_eq!(first.status, 200, "{first:?}");
    app.wait_thread(&p, "1 of 2 approvals").await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);
    // Carol's click alone records nothing; Bob's sign-in cannot stand in for hers.
    let before = app.ephemerals_to(APPROVER_2);
    app.click(APPROVER_2, &p, "approve").await;
    app.wait_more_ephemerals(APPROVER_2, before).await;
    let link = app.okta_link(APPROVER_2).await;
    let (_, _, refused) = app.confirm_in_okta(&link).await;
    assert!(
        refused.body.contains("a different Okta user signed in"),
        "{}",
        refused.body
    );
    assert_eq!(app.sign_offs(&p.id).await.len(), 1);
    app.w
        .okta
        .oidc()
        .sign_in(SignInChoice::user("carol@example.com"));
    let second = app.approve_in_okta(APPROVER_2, &p).await;
    assert_eq!(second.status, 200, "{second:?}");
    app.wait_state(&p.id, State::Completed).await;
    let root = app
        .wait_root_contains(&p, "<@U0003> — confirmed in Okta")
        .await;
    assert!(root.contains("<@U0002> — confirmed in Okta"), "{root}");
}

#[tokio::test]
async fn acr_values_are_asked_for_and_required() {
    let app = spawn_oidc()
        .config(|c| {
            oidc(c);
            c.okta.oidc.as_mut().unwrap().acr_values = Some("urn:okta:loa:2fa:any".into());
        })
        .start()
        .await;
    app.w.okta.oidc().sign_in(SignInChoice::User {
        login: "bob@example.com".into(),
        auth_time: None,
        amr: vec!["pwd".into()],
        acr: Some("urn:okta:loa:1fa:pwd".into()),
    });
    let (p, link) = clicked(&app).await;
    let (start, _, done) = app.confirm_in_okta(&link).await;
    assert!(
        start
            .location
            .unwrap()
            .contains("acr_values=urn%3Aokta%3Aloa%3A2fa%3Aany"),
        "acr_values sent"
    );
    assert_refused(
        &app,
        &p,
        &done,
        "the sign-in did not meet the required assurance (acr urn:okta:loa:1fa:pwd instead of urn:okta:loa:2fa:any)",
    )
    .await;
    // With the right acr the same approver gets through.
    app.w.okta.oidc().sign_in(SignInChoice::User {
        login: "bob@example.com".into(),
        auth_time: None,
        amr: vec!["pwd".into(), "mfa".into()],
        acr: Some("urn:okta:loa:2fa:any".into()),
    });
    assert_eq!(app.approve_in_okta(APPROVER, &p).await.status, 200);
    app.wait_state(&p.id, State::Completed).await;
}

#[tokio::test]
async fn okta_text_in_a_refusal_cannot_mention_anyone() {
    let app = spawn_oidc().start().await;
    app.w.okta.oidc().sign_in(SignInChoice::Deny);
    let (p, link) = clicked(&app).await;
    let start = app.browse(&link).await;
    let okta = app.browse(start.location.as_deref().unwrap()).await;
    let callback = okta.location.unwrap();
    let at = callback.find("error_description=").unwrap();
    let end = callback[at..]
        .find('&')
        .map(|e| e + at)
        .unwrap_or(callback.len());
    let hostile = format!(
        "{}error_description=%3C%21channel%3E%20%26%20%3C%40U0001%3E{}",
        &callback[..at],
        &callback[end..]
    );
    let page = app.browse(&hostile).await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("<!channel>"), "{}", page.body);
    let told = app.ephemeral_to(APPROVER, "Okta did not confirm").await;
    assert!(
        told.contains("Okta answered access_denied (!channel  @U0001)"),
        "{told}"
    );
    app.assert_not_recorded(&p.id).await;
}

/// A confirmation is settled just before its approval is recorded; if the bot stops in between
/// (or the approval is then refused), the message must not show an approval that was never
/// recorded.
#[tokio::test]
async fn a_confirmation_without_its_recorded_approval_is_not_shown_as_an_approval() {
    use okta_reset::store::StepUpState;
    let app = spawn_oidc().start().await;
    let (p, _) = clicked(&app).await;
    let store = &app.w.app.service.store;
    let row = store.step_ups(&p.id).await.unwrap().remove(0);
    // The bot stopped right after settling it: confirmed in Okta, nothing recorded.
    store
        .settle_step_up(
            &row.token_hash,
            StepUpState::Confirmed,
            Some("mfa"),
            Some(1),
            1,
        )
        .await
        .unwrap();
    app.w.app.service.refresh_root(&p.id).await;
    app.settle().await;
    let root = app.root_text(&p);
    assert!(!root.contains("🔐"), "{root}");
    app.assert_not_recorded(&p.id).await;
}
