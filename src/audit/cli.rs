//! `okta-reset audit verify|export`: argument checks, opening the store named in the config, and
//! the words and exit codes people (and scripts) see. Needs the config file only for `store.url`;
//! no secret is read. Arguments are checked before the store is opened, so a bad one changes
//! nothing, and a store that does not exist is never created.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use super::export::export;
use super::{verify, ExportFilter, Format, Verdict, VerifyError};
use crate::clock::parse_time;
use crate::config::Config;
use crate::domain::ids::RequestId;
use crate::store::{self, Store};

/// The chain holds (or the export was written).
pub const EXIT_OK: u8 = 0;
/// `verify` found an event that does not hold.
pub const EXIT_BROKEN: u8 = 1;
/// Nothing could be checked or exported: bad argument, config, missing, empty or newer store.
pub const EXIT_CANNOT: u8 = 2;

/// What to print (on stdout for `verify`'s verdict, stderr otherwise) and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: u8,
    pub message: String,
}

impl Outcome {
    fn cannot(message: impl Into<String>) -> Self {
        Outcome {
            code: EXIT_CANNOT,
            message: message.into(),
        }
    }
}

async fn open_store(config_path: &Path) -> Result<(Arc<dyn Store>, String), Outcome> {
    let config = Config::from_file(config_path).map_err(|e| Outcome::cannot(e.to_string()))?;
    let url = config.store.url;
    let store = store::open_read_only(&url)
        .await
        .map_err(|e| Outcome::cannot(e.to_string()))?;
    Ok((store, url))
}

pub async fn verify_command(config_path: &Path) -> Outcome {
    let (store, url) = match open_store(config_path).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    match verify(store.as_ref()).await {
        Ok(Verdict::Intact(i)) => Outcome {
            code: EXIT_OK,
            message: format!(
                "Audit log intact: {} events checked, #1 to #{}.\nHead: #{} sha256:{}\n\
                 Keep this head (your SIEM's copy of `audit export` holds it too): events deleted \
                 from the end of the log can only be noticed against it.",
                i.events, i.head_seq, i.head_seq, i.head_hash
            ),
        },
        Ok(Verdict::Broken { at, intact_before }) => Outcome {
            code: EXIT_BROKEN,
            message: format!(
                "Audit log NOT intact: {at}.\nThe {intact_before} event(s) stored before it check out."
            ),
        },
        Err(VerifyError::Empty) => Outcome::cannot(format!("{url}: {}", VerifyError::Empty)),
        Err(VerifyError::Store(e)) => Outcome::cannot(e.to_string()),
    }
}

/// `--since` and `--request` as typed; checked before anything is opened.
#[derive(Debug, Clone, Default)]
pub struct ExportArgs {
    pub since: Option<String>,
    pub request: Option<String>,
    pub format: Format,
}

/// Turns the typed arguments into a filter, or the sentence explaining what is wrong.
pub fn export_filter(args: &ExportArgs) -> Result<ExportFilter, String> {
    let since = match args.since.as_deref() {
        None => None,
        Some(s) => Some(parse_time(s).ok_or_else(|| {
            format!(
                "--since: `{}` is not a time. Use RFC 3339, e.g. 2026-11-27T09:30:00Z, or a date, \
                 e.g. 2026-11-27 (midnight UTC). Nothing was exported.",
                crate::domain::ids::clip_for_display(s)
            )
        })?),
    };
    let request = match args.request.as_deref() {
        None => None,
        Some(r) => Some(
            RequestId::parse(r)
                .map_err(|e| format!("--request: {e}. Nothing was exported."))?
                .to_string(),
        ),
    };
    Ok(ExportFilter { since, request })
}

pub async fn export_command(config_path: &Path, args: &ExportArgs, out: &mut dyn Write) -> Outcome {
    let filter = match export_filter(args) {
        Ok(f) => f,
        Err(why) => return Outcome::cannot(why),
    };
    let (store, _) = match open_store(config_path).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    match export(store.as_ref(), &filter, args.format, out).await {
        Ok(n) => Outcome {
            code: EXIT_OK,
            message: format!("exported {n} event(s)"),
        },
        Err(e) => Outcome::cannot(e.to_string()),
    }
}
