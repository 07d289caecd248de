//! `okta-reset audit export`: the log as flat records for SIEM ingestion, one JSON object per line
//! (JSONL) or CSV. Field names are documented in the README ("Auditing"); they are stable.

use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use super::PAGE;
use crate::clock::format_rfc3339;
use crate::spreadsheet::safe_cell;
use crate::store::{AuditQuery, AuditRecord, Store, StoreError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line; values exactly as stored.
    #[default]
    Jsonl,
    /// A header row then one row per event; cells a spreadsheet would execute start with `'`.
    Csv,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFilter {
    /// Only events at or after this time (Unix ms).
    pub since: Option<i64>,
    /// Only events of this request (`R-…`).
    pub request: Option<String>,
}

/// One event, flat: every field a scalar, so SIEMs map it without nested paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlatEvent {
    /// RFC 3339, UTC, milliseconds.
    pub time: String,
    /// Position in the hash chain.
    pub seq: Option<i64>,
    pub action: String,
    /// Slack user id of the person who acted; null when the bot acted on its own.
    pub actor: Option<String>,
    /// Request id `R-…`; null for events not tied to a request (`policy_loaded`).
    pub request: Option<String>,
    /// Okta user id, for `user_outcome`.
    pub target: Option<String>,
    /// `reset` | `failed` | `pending` for `user_outcome`; the final state for `run_finished`.
    pub outcome: Option<String>,
    /// Okta's `X-Okta-Request-Id` of the reset call (the System Log's correlation key).
    pub okta_request_id: Option<String>,
    /// The event's full detail as JSON text.
    pub detail: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

pub const FIELDS: [&str; 11] = [
    "time",
    "seq",
    "action",
    "actor",
    "request",
    "target",
    "outcome",
    "okta_request_id",
    "detail",
    "prev_hash",
    "hash",
];

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

impl FlatEvent {
    pub fn from_record(r: &AuditRecord) -> Self {
        let d = &r.event.detail;
        let outcome = match r.event.action.as_str() {
            "run_finished" => text(d, "state"),
            _ => text(d, "outcome"),
        };
        FlatEvent {
            time: format_rfc3339(r.event.at),
            seq: r.seq,
            action: r.event.action.clone(),
            actor: r.event.actor.clone(),
            request: r.event.request_id.clone(),
            target: text(d, "okta_id"),
            outcome,
            okta_request_id: text(d, "okta_request_id"),
            detail: crate::domain::audit_chain::canonical(d),
            prev_hash: r.prev_hash.clone(),
            hash: r.hash.clone(),
        }
    }

    fn cells(&self) -> [String; 11] {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.time.clone(),
            self.seq.map(|s| s.to_string()).unwrap_or_default(),
            self.action.clone(),
            o(&self.actor),
            o(&self.request),
            o(&self.target),
            o(&self.outcome),
            o(&self.okta_request_id),
            self.detail.clone(),
            o(&self.prev_hash),
            o(&self.hash),
        ]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not write the export: {0}")]
    Write(String),
}

fn write_err(e: impl std::fmt::Display) -> ExportError {
    ExportError::Write(e.to_string())
}

/// Writes the matching events to `out`, page by page; returns how many were written.
pub async fn export(
    store: &dyn Store,
    filter: &ExportFilter,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let mut written = 0u64;
    let mut after_id = 0;
    let mut header = format == Format::Csv;
    loop {
        let page = store
            .audit_page(&AuditQuery {
                after_id,
                since: filter.since,
                request_id: filter.request.clone(),
                limit: PAGE,
            })
            .await?;
        match format {
            // A page at a time, so memory stays flat however long the log is.
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                if std::mem::take(&mut header) {
                    w.write_record(FIELDS).map_err(write_err)?;
                }
                for r in &page {
                    let cells = FlatEvent::from_record(r).cells();
                    w.write_record(cells.iter().map(|c| safe_cell(c).into_owned()))
                        .map_err(write_err)?;
                }
                out.write_all(&w.into_inner().map_err(write_err)?)
                    .map_err(write_err)?;
            }
            Format::Jsonl => {
                for r in &page {
                    serde_json::to_writer(&mut *out, &FlatEvent::from_record(r))
                        .map_err(write_err)?;
                    out.write_all(b"\n").map_err(write_err)?;
                }
            }
        }
        written += page.len() as u64;
        match page.last() {
            Some(last) if (page.len() as i64) == PAGE => after_id = last.id,
            _ => break,
        }
    }
    out.flush().map_err(write_err)?;
    Ok(written)
}
