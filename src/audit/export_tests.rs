//! `audit export`: the flat fields, both formats, the filters, and that an auditor can re-hash
//! every exported event without this program.

use std::sync::Arc;

use serde_json::{json, Value};

use super::export::{export, FIELDS};
use super::*;
use crate::clock::parse_time;
use crate::domain::audit_chain::{digest, GENESIS};
use crate::store::{self, AuditEvent, Store};

async fn store_with_events() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    let store = store::open(&url).await.unwrap();
    let events = [
        (1_000, None, None, "policy_loaded", json!({"digest": "abc"})),
        (
            2_000,
            Some("R-00000001"),
            Some("U0001"),
            "request_received",
            json!({"channel": "C0001", "text": "=HYPERLINK(\"http://evil\")"}),
        ),
        (
            3_000,
            Some("R-00000001"),
            None,
            "user_outcome",
            json!({"okta_id": "00u1", "outcome": "reset", "okta_request_id": "-Xy9", "reason": null}),
        ),
        (
            4_000,
            Some("R-00000002"),
            Some("@U0002"),
            "run_finished",
            json!({"state": "completed", "counts": {"reset": 1}}),
        ),
    ];
    for (at, request, actor, action, detail) in events {
        store
            .append_audit(&AuditEvent {
                at: 1_764_220_631_000 + at,
                request_id: request.map(str::to_string),
                actor: actor.map(str::to_string),
                action: action.into(),
                detail,
            })
            .await
            .unwrap();
    }
    (store, dir)
}

async fn run(store: &Arc<dyn Store>, filter: ExportFilter, format: Format) -> (u64, String) {
    let mut out = Vec::new();
    let n = export(store.as_ref(), &filter, format, &mut out)
        .await
        .unwrap();
    (n, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn jsonl_has_one_flat_object_per_event_with_the_documented_fields() {
    let (store, _dir) = store_with_events().await;
    let (n, out) = run(&store, ExportFilter::default(), Format::Jsonl).await;
    assert_eq!(n, 4);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for l in &lines {
        let keys: Vec<&str> = l.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = FIELDS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "fields are exactly the documented ones");
        assert!(l
            .as_object()
            .unwrap()
            .values()
            .all(|v| !v.is_object() && !v.is_array()));
    }
    assert_eq!(lines[0]["actor"], Value::Null);
    assert_eq!(lines[0]["request"], Value::Null);
    assert_eq!(lines[0]["prev_hash"], GENESIS);
    let outcome = &lines[2];
    assert_eq!(outcome["time"], "2025-11-27T05:17:14.000Z");
    assert_eq!(outcome["action"], "user_outcome");
    assert_eq!(outcome["request"], "R-00000001");
    assert_eq!(outcome["target"], "00u1");
    assert_eq!(outcome["outcome"], "reset");
    assert_eq!(outcome["okta_request_id"], "-Xy9");
    assert_eq!(outcome["seq"], 3);
    assert_eq!(
        lines[3]["outcome"], "completed",
        "run_finished carries its state"
    );
    // JSONL keeps values exactly: nothing is neutralised there.
    assert!(lines[1]["detail"].as_str().unwrap().contains("=HYPERLINK"));
}

#[tokio::test]
async fn an_auditor_can_rehash_exported_events_with_any_jcs_implementation() {
    let (store, _dir) = store_with_events().await;
    let (_, out) = run(&store, ExportFilter::default(), Format::Jsonl).await;
    let mut prev = GENESIS.to_string();
    for line in out.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let at = parse_time(e["time"].as_str().unwrap()).unwrap();
        let detail: Value = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap();
        assert_eq!(e["prev_hash"], prev.as_str());
        let recomputed = digest(&json!({
            "seq": e["seq"], "at": at, "request_id": e["request"], "actor": e["actor"],
            "action": e["action"], "detail": detail, "prev_hash": e["prev_hash"],
        }));
        assert_eq!(e["hash"], recomputed.as_str());
        prev = recomputed;
    }
}

#[tokio::test]
async fn csv_has_a_header_and_neutralises_formula_cells() {
    let (store, _dir) = store_with_events().await;
    let (n, out) = run(&store, ExportFilter::default(), Format::Csv).await;
    assert_eq!(n, 4);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(r.headers().unwrap(), FIELDS.to_vec());
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[2][5], "00u1");
    assert_eq!(&rows[2][7], "'-Xy9", "a leading - is neutralised");
    assert_eq!(&rows[3][3], "'@U0002", "a leading @ is neutralised");
    assert_eq!(&rows[0][3], "", "no actor: empty cell");
    assert!(rows[1][8].starts_with('{'), "detail is JSON text");
}

#[tokio::test]
async fn filters_by_time_and_request() {
    let (store, _dir) = store_with_events().await;
    let since = ExportFilter {
        since: Some(1_764_220_631_000 + 3_000),
        request: None,
    };
    let (n, out) = run(&store, since, Format::Jsonl).await;
    assert_eq!(n, 2);
    assert!(out.contains("user_outcome") && out.contains("run_finished"));
    let one = ExportFilter {
        since: None,
        request: Some("R-00000001".into()),
    };
    let (n, out) = run(&store, one, Format::Jsonl).await;
    assert_eq!(n, 2);
    assert!(!out.contains("R-00000002") && !out.contains("policy_loaded"));
    let (n, out) = run(
        &store,
        ExportFilter {
            since: None,
            request: Some("R-NONE0000".into()),
        },
        Format::Csv,
    )
    .await;
    assert_eq!(n, 0);
    assert_eq!(out, format!("{}\n", FIELDS.join(",")), "header only");
}

#[test]
fn bad_export_arguments_are_refused_with_the_fix() {
    use super::cli::{export_filter, ExportArgs};
    let bad_time = ExportArgs {
        since: Some("yesterday".into()),
        ..ExportArgs::default()
    };
    assert_eq!(
        export_filter(&bad_time).unwrap_err(),
        "--since: `yesterday` is not a time. Use RFC 3339, e.g. 2026-11-27T09:30:00Z, or a date, e.g. 2026-11-27 (midnight UTC). Nothing was exported."
    );
    let bad_request = ExportArgs {
        request: Some("R-1".into()),
        ..ExportArgs::default()
    };
    assert_eq!(
        export_filter(&bad_request).unwrap_err(),
        "--request: `R-1` is not a request id (expected R- followed by 8 letters/digits, e.g. R-7K3M9QXD). Nothing was exported."
    );
    let good = ExportArgs {
        since: Some("2025-11-27".into()),
        request: Some("r-7k3m9qxd".into()),
        ..ExportArgs::default()
    };
    assert_eq!(
        export_filter(&good).unwrap(),
        ExportFilter {
            since: Some(1_764_201_600_000),
            request: Some("R-7K3M9QXD".into()),
        }
    );
}
