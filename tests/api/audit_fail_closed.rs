//! Fail closed (issue 13, point 5): when the audit log cannot be written, nothing a person asks
//! for happens, and they are told so in words.

use okta_reset::domain::request::State;

use crate::helpers::*;

const ASK: &str = r#"group:contractors reason:"INC-4312 phishing""#;

/// Makes (or stops making) every insert into the bot's audit log fail, as a full disk or a
/// revoked grant would.
async fn audit_down(app: &TestApp, down: bool) {
    let pool = sqlx::SqlitePool::connect(&app.w.config.store.url)
        .await
        .unwrap();
    let sql = if down {
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_events \
         BEGIN SELECT RAISE(ABORT, 'audit down'); END"
    } else {
        "DROP TRIGGER audit_down"
    };
    sqlx::query(sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn nothing_is_decided_cancelled_or_looked_up_off_the_record() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    app.settle().await;
    audit_down(&app, true).await;
    let before = app.snapshot().await;

    app.click(APPROVER, &p, "approve").await;
    let msg = app.ephemeral_to(APPROVER, "audit event").await;
    assert_eq!(
        msg,
        format!("The bot's store could not record your decision and its audit event, so nothing was decided: {} is still waiting. Try again shortly.", p.id)
    );
    let ack = app.slash(REQUESTER, &format!("cancel {}", p.id)).await;
    assert_eq!(
        ack,
        format!("The bot's store could not record the cancel and its audit event, so nothing was cancelled: {} goes on as before. Try again shortly.", p.id)
    );
    let calls = app.w.okta.stats().total_calls;
    let ack = app.slash(REQUESTER, ASK).await;
    assert!(ack.starts_with("Looking up"), "{ack}");
    let msg = app
        .ephemeral_to(REQUESTER, "audit log could not be written")
        .await;
    assert!(
        msg.ends_with("Nothing was looked up or changed; try again shortly."),
        "{msg}"
    );
    app.settle().await;
    assert_eq!(app.w.okta.stats().total_calls, calls, "Okta was asked");
    app.assert_nothing_changed_since(&before).await;
    assert_eq!(app.record(&p.id).await.state, State::PendingApproval);

    // Back on the record: the same click goes through.
    audit_down(&app, false).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
}

/// Makes inserts of one audit action fail, leaving every other event (the approval's) writable.
async fn audit_refuses(app: &TestApp, action: &str, refuse: bool) {
    let pool = sqlx::SqlitePool::connect(&app.w.config.store.url)
        .await
        .unwrap();
    let sql = if refuse {
        format!(
            "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events WHEN NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'audit down'); END"
        )
    } else {
        "DROP TRIGGER audit_refuses".to_string()
    };
    sqlx::query(&sql).execute(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn a_run_resets_nobody_until_its_start_is_on_the_record() {
    let app = spawn().await;
    let p = app.request(ASK).await;
    audit_refuses(&app, "run_started", true).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_state(&p.id, State::Running).await;
    // Long enough for a run to reset several users at the simulator's pace.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(app.w.okta.reset_calls().len(), 0, "reset off the record");

    audit_refuses(&app, "run_started", false).await;
    app.wait_thread(&p, "Run complete").await;
    app.assert_each_target_reset_once(&p.id).await;
    assert!(app
        .audit_actions(&p.id)
        .await
        .contains(&"run_started".to_string()));
}
