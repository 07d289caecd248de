//! `okta-reset audit verify|export` as an operator runs them: a config file and the store a real
//! run left behind. The commands are driven through `audit::cli`, which `main` only prints and
//! exits with (in process: the shared build folder can hold another branch's binary meanwhile).

use std::path::{Path, PathBuf};

use okta_reset::audit::cli::{self, ExportArgs, Outcome};
use okta_reset::audit::Format;
use sqlx::SqlitePool;

use crate::helpers::*;

pub(crate) fn config_file(dir: &Path, store_url: &str) -> PathBuf {
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

async fn verify(config: &Path) -> Outcome {
    cli::verify_command(config).await
}

async fn export(config: &Path, args: ExportArgs) -> (Outcome, String) {
    let mut out = Vec::new();
    let outcome = cli::export_command(config, &args, &mut out).await;
    (outcome, String::from_utf8(out).unwrap())
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
async fn verify_and_export_need_only_the_config_and_the_store() {
    let (_dir, config, _, id) = finished_run().await;
    let out = verify(&config).await;
    assert_eq!(out.code, cli::EXIT_OK, "{}", out.message);
    assert!(
        out.message.starts_with("Audit log intact: "),
        "{}",
        out.message
    );
    assert!(out.message.contains("Head: #"), "{}", out.message);

    let only = ExportArgs {
        request: Some(id.clone()),
        ..ExportArgs::default()
    };
    let (out, jsonl) = export(&config, only).await;
    assert_eq!(out.code, cli::EXIT_OK, "{}", out.message);
    let lines: Vec<serde_json::Value> = jsonl
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
    assert_eq!(out.message, format!("exported {} event(s)", lines.len()));

    let csv_since = ExportArgs {
        since: Some("2020-01-01".into()),
        format: Format::Csv,
        ..ExportArgs::default()
    };
    let (out, csv) = export(&config, csv_since).await;
    assert_eq!(out.code, cli::EXIT_OK);
    assert!(csv.starts_with(
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
    let out = verify(&config).await;
    assert_eq!(out.code, cli::EXIT_BROKEN);
    assert!(
        out.message
            .starts_with("Audit log NOT intact: event #3 is missing: after event #2 comes #4 (`"),
        "{}",
        out.message
    );
    assert!(
        out.message
            .ends_with("deleted from the log.\nThe 2 event(s) stored before it check out."),
        "{}",
        out.message
    );
}

#[tokio::test]
async fn verify_on_an_empty_store_says_there_is_nothing_to_verify() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/empty.db", dir.path().display());
    okta_reset::store::open(&url).await.unwrap();
    let config = config_file(dir.path(), &url);
    let out = verify(&config).await;
    assert_eq!(out.code, cli::EXIT_CANNOT);
    assert_eq!(
        out.message,
        format!("{url}: the audit log is empty, so there is nothing to verify. okta-reset records its policy every time it starts, so the log of a store it has run on is never empty: if this store was in use, its events were deleted")
    );
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
    let out = verify(&config).await;
    assert_eq!(out.code, cli::EXIT_CANNOT);
    assert_eq!(
        out.message,
        format!(
            "the store at {url} is at schema version 99, newer than this okta-reset knows ({}): it was written by a newer okta-reset. Use that version (or newer) with this store; nothing was changed",
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
    let bad = ExportArgs {
        since: Some("last tuesday".into()),
        ..ExportArgs::default()
    };
    let (out, written) = export(&config, bad).await;
    assert_eq!(out.code, cli::EXIT_CANNOT);
    assert_eq!(
        out.message,
        "--since: `last tuesday` is not a time. Use RFC 3339, e.g. 2026-11-27T09:30:00Z, or a date, e.g. 2026-11-27 (midnight UTC). Nothing was exported."
    );
    assert!(written.is_empty());
    // A good time on a store that is not there: refused, and nothing is created.
    let good = ExportArgs {
        since: Some("2026-11-27".into()),
        ..ExportArgs::default()
    };
    let (out, written) = export(&config, good).await;
    assert_eq!(out.code, cli::EXIT_CANNOT);
    assert!(
        out.message.contains("there is no store at"),
        "{}",
        out.message
    );
    assert!(written.is_empty());
    assert!(!store.exists());
}
