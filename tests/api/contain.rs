//! `--contain` (issue 16): reset, then end every session and OAuth token and forget remembered
//! devices; a revocation that keeps failing marks the user *reset, sessions not ended* and the
//! run goes on.

use okta_reset::slack::render::CONTAIN_LINE;
use okta_reset::store::{Outcome, Sessions};

use crate::helpers::*;

const LEE: &str = "c01.lee@contractors.example.com";
const MOSS: &str = "c02.moss@contractors.example.com";

#[tokio::test]
async fn a_contained_run_resets_each_user_then_ends_their_sessions_tokens_and_devices() {
    let app = spawn().await;
    let p = app
        .request(&format!(
            r#"user:{LEE},{MOSS} reason:"INC-9 phished" --contain"#
        ))
        .await;
    let root = app.root_text(&p);
    assert!(
        root.contains(&format!("*Contain:* {CONTAIN_LINE} (`--contain`)")),
        "{root}"
    );
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("*2 reset*"), "{summary}");
    assert!(
        summary.contains("sessions, OAuth tokens and remembered devices ended for all 2 reset"),
        "{summary}"
    );
    // `--contain` implies `--revoke-sessions` on the reset call itself.
    let calls = app.w.okta.reset_calls();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.revoke_sessions && c.send_email));
    app.assert_okta_reset_each_once(2);
    let revoked = app.w.okta.revocations();
    assert_eq!(revoked.len(), 2);
    assert!(revoked.iter().all(|r| r.oauth_tokens && r.forget_devices));
    for t in app.targets(&p.id).await {
        let id = t.target.okta_id.as_deref().unwrap();
        assert_eq!(app.w.okta.revocation_count(id), 1);
        assert_eq!(t.sessions, Some(Sessions::Ended));
        // Revoked only after that user's reset.
        let reset_at = calls.iter().find(|c| c.user_id == id).unwrap().at;
        let revoked_at = revoked.iter().find(|r| r.user_id == id).unwrap().at;
        assert!(reset_at <= revoked_at);
    }
}

#[tokio::test]
async fn a_revocation_failing_until_retries_run_out_marks_the_user_and_the_run_goes_on() {
    let app = spawn_with()
        .config(|c| {
            c.okta.max_retries = 1;
            c.okta.concurrency = 1;
        })
        .start()
        .await;
    // The first user's revocation and its one retry answer 503.
    app.w.okta.fail_next_revocations(2, 503);
    let p = app
        .request(r#"group:contractors reason:"INC-10" --contain"#)
        .await;
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*28 reset*, 12 skipped, 0 failed"),
        "{summary}"
    );
    assert!(
        summary.contains("sessions ended for 27; ⚠️ *1 reset, sessions not ended*"),
        "{summary}"
    );
    assert!(
        summary.contains("*Reset, sessions not ended:*"),
        "{summary}"
    );
    assert!(summary.contains("HTTP 503"), "{summary}");
    app.assert_okta_reset_each_once(28);
    assert_eq!(app.w.okta.revocations().len(), 27);
    let targets = app.targets(&p.id).await;
    let kept: Vec<_> = targets
        .iter()
        .filter(|t| t.sessions == Some(Sessions::NotEnded))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].outcome, Outcome::Reset);
    let why = kept[0].sessions_reason.as_deref().unwrap();
    assert!(
        why.starts_with("reset, but its sessions could not be ended"),
        "{why}"
    );
    assert_eq!(
        app.w
            .okta
            .revocation_count(kept[0].target.okta_id.as_deref().unwrap()),
        0
    );
}

/// The bot goes away between a user's reset and their revocation (the revocation hangs past the
/// shutdown's drain, so the run is cut off as by a crash): the resumed run ends that user's
/// sessions once and resets nobody twice.
#[tokio::test]
async fn a_run_cut_off_between_a_reset_and_its_revocation_revokes_once_and_resets_nobody_twice() {
    let app = spawn_with()
        .config(|c| {
            c.okta.concurrency = 1;
            c.okta.call_timeout_secs = 60;
            // The cut-off run keeps its lease until it lapses: keep that short.
            c.store.lease_secs = 2;
        })
        .start()
        .await;
    app.w.okta.hold_revocations(true);
    let p = app
        .request(&format!(r#"user:{LEE},{MOSS} reason:"INC-11" --contain"#))
        .await;
    app.click(APPROVER, &p, "approve").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.w.okta.stats().calls.users_sessions < 1 {
        assert!(tokio::time::Instant::now() < deadline, "no revocation");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // One reset done and journalled, its revocation hanging.
    assert_eq!(app.w.okta.reset_calls().len(), 1);
    let first = app.w.okta.reset_calls()[0].user_id.clone();
    let TestApp { w, clock } = app;
    let w = w.restart_app().await.unwrap();
    let app = TestApp { w, clock };
    // The cut-off call is answered 503 unapplied; the resumed run's own call goes through.
    app.w.okta.hold_revocations(false);
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("*2 reset*"), "{summary}");
    assert!(summary.contains("ended for all 2 reset"), "{summary}");
    app.wait_thread(&p, "This run was interrupted").await;
    app.assert_okta_reset_each_once(2);
    assert_eq!(app.w.okta.revocation_count(&first), 1);
    assert_eq!(app.w.okta.revocations().len(), 2);
    for t in app.targets(&p.id).await {
        assert_eq!(t.sessions, Some(Sessions::Ended), "{t:?}");
    }
}
