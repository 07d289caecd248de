//! Messages built by priority within Slack's limits (the simulated Slack refuses blocks past them
//! with `invalid_blocks`, as Slack does): what the approver decides on always survives, lists say
//! how many they left out, and the full list is attached when the message is shortened. And the
//! buttons' `block_id` changes when an approval rewrites them.

use okta_reset::sim::okta::{SimOrg, SimUser};

use crate::helpers::*;

/// Issue 12: with an 80-login `user:` list and a 400-character reason, the cut removed "Also:
/// ends each user's Okta sessions", so the approver could not see that sessions would end.
#[tokio::test]
async fn eighty_users_and_a_long_reason_keep_the_counts_and_the_sessions_line() {
    let logins: Vec<String> = (0..80)
        .map(|i| format!("person{i:02}.with.a.longer.login@example.com"))
        .collect();
    let org = logins.iter().fold(SimOrg::demo(), |org, l| {
        org.user(SimUser::new(l, "Some", "Person"))
    });
    let app = spawn_with().org(org).start().await;
    let reason = "Phishing & credential stuffing, see INC-4312 ".repeat(10)[..400].to_string();
    let p = app
        .request(&format!(
            "user:{} reason:\"{reason}\" --revoke-sessions",
            logins.join(",")
        ))
        .await;
    let blocks: Vec<String> = app.root_blocks(&p).into_iter().map(|b| b.2).collect();
    assert_eq!(
        blocks[1],
        "*Resolved 80 user(s):* *80 will reset*\n*Also:* ends each user's Okta sessions (`--revoke-sessions`)"
    );
    let about = &blocks[2];
    assert!(
        about.contains(&format!("*Reason:* `{}`", reason.replace('&', "&amp;"))),
        "{about}"
    );
    assert!(blocks[3].ends_with("\n…and 70 more"), "{}", blocks[3]);
    for b in &blocks {
        assert!(b.chars().count() <= 3000);
    }
    // Everyone is in the list attached in the thread.
    app.w
        .slack
        .wait_for("the target list", WAIT, |s| {
            s.uploads()
                .iter()
                .any(|u| u.completed && u.filename.ends_with("-targets.csv"))
        })
        .await
        .unwrap();
}

/// Issue 12: a 500-character reason of `&` was cut into `&a` with an odd number of backticks.
#[tokio::test]
async fn a_reason_of_500_ampersands_reaches_the_approver_whole() {
    let app = spawn().await;
    let reason = "&".repeat(500);
    let p = app
        .request(&format!(
            "user:c01.lee@contractors.example.com reason:\"{reason}\""
        ))
        .await;
    let about = app.root_blocks(&p).remove(2).2;
    assert!(
        about.contains(&format!("*Reason:* `{}`", "&amp;".repeat(500))),
        "{about}"
    );
    for line in about.lines() {
        assert_eq!(line.matches('`').count() % 2, 0, "{line}");
    }
}

/// Issue 12: the buttons kept `block_id` "decision" when "1 of 2 approvals" rewrote them.
#[tokio::test]
async fn the_buttons_get_a_new_block_id_with_each_approval_and_the_second_click_counts() {
    let app = spawn_with()
        .config(|c| c.policy.two_approvers_above = Some(10))
        .start()
        .await;
    let p = app
        .request(r#"group:contractors reason:"INC-4312 phishing""#)
        .await;
    let block_id = |app: &TestApp| {
        app.root_blocks(&p)
            .into_iter()
            .find(|(kind, _, _)| kind == "actions")
            .map(|(_, b, _)| b["block_id"].as_str().unwrap().to_string())
    };
    assert_eq!(block_id(&app).as_deref(), Some("decision-0"));
    app.click(APPROVER, &p, "approve").await;
    app.wait_root_contains(&p, "Approved so far (1 of 2):*")
        .await;
    assert_eq!(block_id(&app).as_deref(), Some("decision-1"));
    // The second approver clicks the rewritten block: the click is read by action and value.
    app.click(APPROVER_2, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    assert_eq!(block_id(&app), None, "the buttons are gone once decided");
}
