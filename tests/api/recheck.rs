//! The approved list against an Okta that changed after the request: protection is read again
//! when a run starts, resumes or continues after its canary, and each user is read again just
//! before their reset. Whoever is no longer resettable is skipped, *changed since approval*.

use okta_reset::store::TargetClass;
use std::time::Duration;

use okta_reset::domain::request::State;
use okta_reset::sim::okta::{OktaSimConfig, SimGroup, SimOrg};

use crate::helpers::*;

const LEE: &str = "c01.lee@contractors.example.com";
const MOSS: &str = "c02.moss@contractors.example.com";
const NASH: &str = "c03.nash@contractors.example.com";
const ORTIZ: &str = "c04.ortiz@contractors.example.com";

/// The demo org plus `helpdesk` (no members, no role yet), `vip` (a protected group, empty for
/// now) and `team` (Lee, Moss and Ortiz).
fn org() -> SimOrg {
    let demo = SimOrg::demo();
    let id = |login: &str| demo.find_user_by_login(login).unwrap().id.clone();
    let team = SimGroup::new("team").members([id(LEE), id(MOSS), id(ORTIZ)]);
    demo.group(SimGroup::new("helpdesk"))
        .group(SimGroup::new("vip"))
        .group(team)
}

impl TestApp {
    fn okta_id(&self, login: &str) -> String {
        self.w.okta.user_id_by_login(login).unwrap()
    }

    fn group_id(&self, name: &str) -> String {
        self.w.okta.group_ids_named(name).remove(0)
    }

    /// `login`'s outcome and outcome reason in the journal.
    async fn outcome_of(&self, id: &str, login: &str) -> (String, String) {
        let t = self
            .targets(id)
            .await
            .into_iter()
            .find(|t| t.target.login.as_deref() == Some(login))
            .unwrap();
        (
            t.outcome.code().to_string(),
            t.outcome_reason.unwrap_or_default(),
        )
    }

    /// The results file attached to the thread, as text.
    fn results_csv(&self) -> String {
        let up = self
            .w
            .slack
            .uploads()
            .into_iter()
            .find(|u| u.filename.ends_with("-results.csv"))
            .expect("a results file");
        String::from_utf8(up.content.unwrap()).unwrap()
    }
}

#[tokio::test]
async fn admins_made_directly_or_through_a_group_after_the_request_are_not_reset() {
    let app = spawn_with().org(org()).start().await;
    let p = app
        .request(&format!(
            r#"user:{LEE},{MOSS},{NASH},{ORTIZ} reason:"INC-9""#
        ))
        .await;
    assert_eq!(app.record(&p.id).await.reset_count, 4);
    // Between the request and the approval: Lee becomes SUPER_ADMIN, Moss joins a group that
    // is then given the Help Desk role.
    let helpdesk = app.group_id("helpdesk");
    assert!(app
        .w
        .okta
        .assign_user_role(&app.okta_id(LEE), "SUPER_ADMIN"));
    assert!(app.w.okta.add_to_group(&helpdesk, &app.okta_id(MOSS)));
    assert!(app.w.okta.assign_group_role(&helpdesk, "HELP_DESK_ADMIN"));

    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*2 reset*, 2 skipped, 0 failed"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "*Skipped: changed since approval* (Okta read again just before each reset):"
        ),
        "{summary}"
    );
    assert!(summary.contains("2 changed since approval"), "{summary}");
    assert!(!summary.contains("will reset"), "{summary}");
    assert_eq!(app.w.okta.reset_count(&app.okta_id(LEE)), 0);
    assert_eq!(app.w.okta.reset_count(&app.okta_id(MOSS)), 0);
    app.assert_okta_reset_each_once(2);

    let (out, why) = app.outcome_of(&p.id, LEE).await;
    assert_eq!(
        (out.as_str(), why.as_str()),
        (
            "skipped",
            "changed since approval: now protected: holds an Okta admin role"
        )
    );
    let (out, why) = app.outcome_of(&p.id, MOSS).await;
    assert_eq!(out, "skipped");
    assert_eq!(
        why,
        format!("changed since approval: now holds an Okta admin role (HELP_DESK_ADMIN through the group {helpdesk})")
    );
    assert!(
        summary.contains(&format!("HELP_DESK_ADMIN through the group {helpdesk}")),
        "{summary}"
    );
    let csv = app.results_csv();
    assert!(
        csv.contains(&format!(
            "{LEE},{LEE},skipped,changed since approval: now protected: holds an Okta admin role,,"
        )),
        "{csv}"
    );
    let events = app.audit_events(&p.id).await;
    assert!(events.iter().any(|e| e.action == "user_outcome"
        && e.detail["login"] == MOSS
        && e.detail["outcome"] == "skipped"));
}

#[tokio::test]
async fn a_user_switched_to_federation_or_suspended_is_skipped_and_the_list_never_grows() {
    let app = spawn_with().org(org()).start().await;
    let p = app.request(r#"group:team reason:"INC-10""#).await;
    assert_eq!(app.record(&p.id).await.reset_count, 3);
    let (lee, moss, nash) = (app.okta_id(LEE), app.okta_id(MOSS), app.okta_id(NASH));
    assert!(app.w.okta.set_user_provider(&lee, "FEDERATION"));
    assert!(app.w.okta.set_user_status(&moss, "SUSPENDED"));
    // Nash joins the group after the request: not on the approved list, never reset.
    assert!(app.w.okta.add_to_group(&app.group_id("team"), &nash));

    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*1 reset*, 2 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_okta_reset_each_once(1);
    assert_eq!(app.w.okta.reset_count(&app.okta_id(ORTIZ)), 1);
    for id in [&lee, &moss, &nash] {
        assert_eq!(app.w.okta.reset_count(id), 0);
    }
    assert_eq!(
        app.w.okta.user_provider(&lee).as_deref(),
        Some("FEDERATION"),
        "not converted into an Okta-password user"
    );
    assert_eq!(
        app.outcome_of(&p.id, LEE).await,
        (
            "skipped".into(),
            "changed since approval: credential provider now FEDERATION (was OKTA): federated/social login: a reset would convert the account".into()
        )
    );
    assert_eq!(
        app.outcome_of(&p.id, MOSS).await,
        (
            "skipped".into(),
            "changed since approval: status now SUSPENDED (was ACTIVE)".into()
        )
    );
    assert!(
        summary.contains("status now SUSPENDED (was ACTIVE)"),
        "{summary}"
    );
    let csv = app.results_csv();
    assert!(
        csv.contains("skipped,changed since approval: status now SUSPENDED (was ACTIVE)"),
        "{csv}"
    );
    assert!(!csv.contains(NASH), "{csv}");
}

#[tokio::test]
async fn an_admin_made_while_a_canary_is_paused_is_skipped_after_continue() {
    let app = spawn_with()
        .org(org())
        .config(|c| {
            c.policy.canary_users = Some(1);
            c.policy.protected_groups = vec!["vip".into()];
        })
        .start()
        .await;
    let p = app
        .request(&format!(r#"user:{LEE},{MOSS},{NASH} reason:"INC-11""#))
        .await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Paused).await;
    let button = app.wait_continue_button(&p).await;
    assert_eq!(app.w.okta.reset_calls().len(), 1);
    // While paused: Moss joins the protected group, Nash gets an admin role through a group.
    let helpdesk = app.group_id("helpdesk");
    assert!(app
        .w
        .okta
        .add_to_group(&app.group_id("vip"), &app.okta_id(MOSS)));
    assert!(app.w.okta.add_to_group(&helpdesk, &app.okta_id(NASH)));
    assert!(app.w.okta.assign_group_role(&helpdesk, "SUPER_ADMIN"));

    app.click_continue(APPROVER_2, &button, &p).await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*1 reset*, 2 skipped, 0 failed"),
        "{summary}"
    );
    app.assert_okta_reset_each_once(1);
    assert_eq!(app.w.okta.reset_count(&app.okta_id(LEE)), 1);
    assert_eq!(
        app.outcome_of(&p.id, MOSS).await.1,
        "changed since approval: now protected: member of the protected group vip"
    );
    assert_eq!(
        app.outcome_of(&p.id, NASH).await.1,
        format!("changed since approval: now holds an Okta admin role (SUPER_ADMIN through the group {helpdesk})")
    );
}

#[tokio::test]
async fn a_run_resumed_after_a_restart_reads_the_protected_accounts_again() {
    let app = spawn_with()
        .org(org())
        .okta(OktaSimConfig {
            latency: Duration::from_millis(60),
            ..OktaSimConfig::default()
        })
        .config(|c| {
            c.okta.concurrency = 1;
            c.policy.protected_groups = vec!["vip".into()];
        })
        .start()
        .await;
    let p = app.request(r#"group:contractors reason:"INC-12""#).await;
    // The last user the run will reach.
    let last = app
        .targets(&p.id)
        .await
        .into_iter()
        .filter(|t| t.target.classification == TargetClass::Reset)
        .max_by_key(|t| t.seq)
        .unwrap();
    let last_id = last.target.okta_id.clone().unwrap();
    app.click(APPROVER, &p, "approve").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.w.okta.reset_calls().len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Put in the protected group while this replica's run holds the old reading.
    assert!(app.w.okta.add_to_group(&app.group_id("vip"), &last_id));
    let TestApp { w, clock } = app;
    let w = w.restart_app().await.unwrap();
    let app = TestApp { w, clock };
    let summary = app.wait_thread(&p, "Run complete").await;
    app.wait_thread(&p, "This run was interrupted").await;
    assert!(
        summary.contains("*27 reset*, 13 skipped, 0 failed"),
        "{summary}"
    );
    assert_eq!(app.w.okta.reset_count(&last_id), 0);
    app.assert_okta_reset_each_once(27);
    assert_eq!(
        app.outcome_of(&p.id, last.target.login.as_deref().unwrap())
            .await
            .1,
        "changed since approval: now protected: member of the protected group vip"
    );
}

/// Lee and Moss requested, then Okta stops answering role reads, then approved: returns the
/// thread's notice that nobody is reset meanwhile.
async fn approve_while_roles_unreadable() -> (TestApp, Posted, String) {
    let app = spawn_with().org(org()).start().await;
    let p = app
        .request(&format!(r#"user:{LEE},{MOSS} reason:"INC-13""#))
        .await;
    app.w.okta.forbid_role_reads(true);
    app.click(APPROVER, &p, "approve").await;
    let said = app
        .wait_thread(&p, "Nobody is reset until it can be read")
        .await;
    (app, p, said)
}

#[tokio::test]
async fn while_protection_cannot_be_read_again_nobody_is_reset_and_the_thread_says_so() {
    let (app, p, said) = approve_while_roles_unreadable().await;
    let said = said.lines().next().unwrap();
    assert!(
        said.starts_with("⚠️ Before resetting anyone the bot reads again who is protected, and Okta could not say who holds admin roles ("),
        "{said}"
    );
    assert!(
        said.ends_with(&format!("To stop here: `/okta-reset cancel {}`.", p.id)),
        "{said}"
    );
    app.settle().await;
    assert!(app.w.okta.reset_calls().is_empty());
    assert_eq!(app.record(&p.id).await.state, State::Running);
    app.assert_audited(&p.id, &["protection_unreadable"]).await;

    app.w.okta.forbid_role_reads(false);
    app.wait_thread(
        &p,
        "the protected accounts were read again and the run goes on",
    )
    .await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(summary.contains("*2 reset*"), "{summary}");
    assert_eq!(
        app.thread_count(&p, "Nobody is reset until"),
        1,
        "said once"
    );
}

#[tokio::test]
async fn a_run_waiting_for_protection_can_be_cancelled_and_resets_nobody() {
    let (app, p, _) = approve_while_roles_unreadable().await;
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    let summary = app.wait_thread(&p, "Run cancelled").await;
    assert!(summary.contains("2 not attempted"), "{summary}");
    app.w.okta.forbid_role_reads(false);
    app.settle().await;
    assert!(app.w.okta.reset_calls().is_empty());
}

/// Okta mails the reset link to the primary email the user has at the reset. Moss's email is
/// changed between the request and the approval (what someone keeping a stolen account does):
/// the run does not send a link to the new address, and says why without naming it.
#[tokio::test]
async fn a_user_whose_primary_email_changed_after_the_request_is_not_reset() {
    let app = spawn_with().org(org()).start().await;
    let p = app
        .request(&format!(r#"user:{LEE},{MOSS} reason:"INC-9""#))
        .await;
    assert!(app
        .w
        .okta
        .set_user_email(&app.okta_id(MOSS), "attacker@evil.example"));
    app.click(APPROVER, &p, "approve").await;
    let summary = app.wait_thread(&p, "Run complete").await;
    assert!(
        summary.contains("*1 reset*, 1 skipped, 0 failed"),
        "{summary}"
    );
    assert!(!summary.contains("evil.example"), "{summary}");
    assert_eq!(app.w.okta.reset_count(&app.okta_id(MOSS)), 0);
    assert_eq!(app.w.okta.reset_count(&app.okta_id(LEE)), 1);
    let (out, why) = app.outcome_of(&p.id, MOSS).await;
    assert_eq!(
        (out.as_str(), why.as_str()),
        (
            "skipped",
            "changed since approval: primary email changed; the reset link would go to the new address"
        )
    );
}

/// A cancel that comes while a user is being read again (just before their reset) stops that
/// reset too: the run checks again after the reads, so nobody is reset after "cancelled".
#[tokio::test]
async fn a_cancel_while_a_user_is_read_again_resets_nobody() {
    let app = spawn_with()
        .org(org())
        .config(|c| c.okta.concurrency = 1)
        .start()
        .await;
    let p = app
        .request(&format!(r#"user:{LEE},{MOSS} reason:"INC-9""#))
        .await;
    let reads_before = app.w.okta.stats().calls.users_get;
    // From now on each Okta answer takes 1.5 s: the reads just before a reset are slow.
    app.w.okta.set_latency(Duration::from_millis(1500));
    app.click(APPROVER, &p, "approve").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while app.w.okta.stats().calls.users_get == reads_before {
        assert!(tokio::time::Instant::now() < deadline, "no read again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(ack, format!("{} is cancelled.", p.id));
    let summary = app.wait_thread(&p, "Run cancelled").await;
    assert!(summary.contains("not attempted"), "{summary}");
    app.settle().await;
    assert!(
        app.w.okta.reset_calls().is_empty(),
        "a reset went out after the cancel"
    );
    for t in app.targets(&p.id).await {
        assert_ne!(t.outcome.code(), "reset", "{t:?}");
    }
}
