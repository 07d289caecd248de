//! `okta-reset audit verify|export` as an operator runs them: the real binary, a config file, the
//! store a real run left behind, no secrets in the environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sqlx::SqlitePool;

use crate::helpers::*;

fn config_file(dir: &Path, store_url: &str) -> PathBuf {
    let path = dir.join("okta-reset.toml");
    std::fs::write(
        &path,
        format!(
            r#"[slack]
team_id = "T0001"
channels = ["C0001"]
[okta]
org_url = "https://example.okta.com"
[policy]
requesters = ["U0001"]
approvers = ["U0002"]
[store]
url = "{store_url}"
"#
        ),
    )
    .unwrap();
    path
}

fn okta_reset(args: &[&str], config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_okta-reset"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("SLACK_SIGNING_SECRET")
        .env_remove("SLACK_BOT_TOKEN")
        .env_remove("OKTA_API_TOKEN")
        .env("RUST_LOG", "off")
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_end().to_string()
}

/// A completed run's store, with the bot stopped, and a config pointing at it.
async fn finished_run() -> (tempfile::TempDir, PathBuf, String, String) {
    let app = spawn().await;
    let p = app
        .request(r#"user:c05.park@contractors.example.com reason:"INC-7""#)
        .await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    let url = app.w.config.store.url.clone();
    let okta_reset::sim::world::World {
        app: bot,
        store_dir,
        ..
    } = app.w;
    bot.shutdown().await;
    let config = config_file(store_dir.path(), &url);
    (store_dir, config, url, p.id)
}

#[tokio::test]
async fn verify_and_export_need_only_the_store() {
    let (_dir, config, _, id) = finished_run().await;
    let out = okta_reset(&["audit", "verify"], &config);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said} {}", text(&out.stderr));
    assert!(said.starts_with("Audit log intact: "), "{said}");
    assert!(said.contains("Head: #"), "{said}");

    let out = okta_reset(&["audit", "export", "--request", &id], &config);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["request"] == id.as_str()));
    let outcome = lines
        .iter()
        .find(|l| l["action"] == "user_outcome")
        .unwrap();
    assert_eq!(outcome["outcome"], "reset");
    assert!(outcome["okta_request_id"].is_string());
    assert_eq!(
        text(&out.stderr),
        format!("okta-reset audit export: exported {} event(s)", lines.len())
    );

    let out = okta_reset(
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--since",
            "2020-01-01",
        ],
        &config,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with(
        "time,seq,action,actor,request,target,outcome,okta_request_id,detail,prev_hash,hash\n"
    ));
}

#[tokio::test]
async fn verify_names_the_gap_left_by_a_deleted_event() {
    let (_dir, config, url, _) = finished_run().await;
    let raw = SqlitePool::connect(&url).await.unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq = 3")
        .execute(&raw)
        .await
        .unwrap();
    raw.close().await;
    let out = okta_reset(&["audit", "verify"], &config);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stdout);
    assert!(
        said.starts_with("Audit log NOT intact: event #3 is missing: after event #2 comes #4 (`"),
        "{said}"
    );
    assert!(
        said.ends_with("deleted from the log.\nThe 2 event(s) stored before it check out."),
        "{said}"
    );
}

#[tokio::test]
async fn verify_on_an_empty_store_says_there_is_nothing_to_verify() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/empty.db", dir.path().display());
    okta_reset::store::open(&url).await.unwrap();
    let config = config_file(dir.path(), &url);
    let out = okta_reset(&["audit", "verify"], &config);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!("okta-reset audit verify: {url}: the audit log is empty, so there is nothing to verify. okta-reset records its policy every time it starts, so the log of a store it has run on is never empty: if this store was in use, its events were deleted")
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn verify_refuses_a_store_from_a_newer_schema_and_changes_nothing() {
    let (_dir, config, url, _) = finished_run().await;
    let raw = SqlitePool::connect(&url).await.unwrap();
    sqlx::query("UPDATE schema_version SET version = 99")
        .execute(&raw)
        .await
        .unwrap();
    let count =
        || sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_events").fetch_one(&raw);
    let before = count().await.unwrap();
    let out = okta_reset(&["audit", "verify"], &config);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "okta-reset audit verify: the store at {url} is at schema version 99, newer than this okta-reset knows ({}): it was written by a newer okta-reset. Use that version (or newer) with this store; nothing was changed",
            okta_reset::store::SqliteStore::known_schema_version()
        )
    );
    assert_eq!(count().await.unwrap(), before);
    let v: i64 = sqlx::query_scalar("SELECT version FROM schema_version")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(v, 99);
}

#[tokio::test]
async fn export_refuses_an_unparseable_time_before_touching_anything() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("never.db");
    let config = config_file(dir.path(), &format!("sqlite://{}", store.display()));
    let out = okta_reset(&["audit", "export", "--since", "last tuesday"], &config);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "okta-reset audit export: --since: `last tuesday` is not a time. Use RFC 3339, e.g. 2026-11-27T09:30:00Z, or a date, e.g. 2026-11-27 (midnight UTC). Nothing was exported."
    );
    assert!(out.stdout.is_empty());
    // A good time on a store that is not there: refused, and nothing is created.
    let out = okta_reset(&["audit", "export", "--since", "2026-11-27"], &config);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("there is no store at"),
        "{}",
        text(&out.stderr)
    );
    assert!(!store.exists());
}
