//! Users named row by row in an uploaded file. Each row is looked up on its own; a row that names
//! nobody in Okta becomes a skipped target carrying its row number, and the request goes on with
//! the others. Rows the CSV reader could not use join them, so the results list every row.

use futures::stream::{self, StreamExt};
use futures::FutureExt;

use super::{lookup_login, Collector, ResolveError};
use crate::csv_input::{CsvTarget, RowError, RowProblem};
use crate::domain::classify::TargetClass;
use crate::domain::command::UserRef;
use crate::okta::model::OktaUser;
use crate::okta::OktaApi;
use crate::store::NewTarget;

/// Classification of a row that names no usable user (bad id, empty, not text…).
/// Lookups in flight at once (Okta advises about 10 concurrent requests for bulk work).
const LOOKUPS_IN_FLIGHT: usize = 8;

/// What an uploaded file contributes to a request.
#[derive(Debug, Clone, Copy)]
pub struct FileRows<'a> {
    /// The file's name, for each row's `source` (`file:users.csv row 7`).
    pub file: &'a str,
    pub rows: &'a [CsvTarget],
    pub errors: &'a [RowError],
}

impl FileRows<'_> {
    fn source(&self, row: usize) -> String {
        format!("file:{} row {row}", self.file)
    }
}

async fn lookup<'a>(
    okta: &dyn OktaApi,
    row: &'a CsvTarget,
) -> (&'a CsvTarget, Result<OktaUser, ResolveError>) {
    let found = match &row.user {
        UserRef::Id(id) => match okta.get_user_entry(id.as_str()).await {
            Ok(Some(Ok(u))) => Ok(u),
            Ok(Some(Err(m))) => Err(ResolveError::Malformed(m)),
            Ok(None) => Err(ResolveError::UserNotFound(id.to_string())),
            Err(e) => Err(e.into()),
        },
        UserRef::Login(login) => lookup_login(okta, login).await,
    };
    (row, found)
}

pub(super) async fn add_rows(c: &mut Collector<'_>, f: &FileRows<'_>) -> Result<(), ResolveError> {
    let okta = c.okta;
    // Boxed: an unboxed stream of borrowing futures trips the compiler's `Send` inference.
    let lookups: Vec<_> = f.rows.iter().map(|r| lookup(okta, r).boxed()).collect();
    let mut found = stream::iter(lookups).buffered(LOOKUPS_IN_FLIGHT);
    while let Some((r, result)) = found.next().await {
        // Past `max_targets` the request is refused: the lookups not yet made are dropped.
        if c.over_limit() {
            c.cut_short = true;
            return Ok(());
        }
        let why = match result {
            Ok(user) => {
                c.add(user, &f.source(r.row)).await?;
                continue;
            }
            Err(ResolveError::Malformed(m)) => {
                // Read again by id when it has one; otherwise skipped with the reason.
                c.add_malformed(m, &f.source(r.row)).await?;
                continue;
            }
            Err(ResolveError::UserNotFound(_)) => {
                "no Okta user has this id, login or email".to_string()
            }
            Err(ResolveError::UserMismatch { found, .. }) => {
                format!("resolves to a different account ({found}); give the full login")
            }
            Err(ResolveError::AmbiguousUser { count, .. }) => {
                format!("matches {count} Okta users; give the login or the user id")
            }
            Err(e) => return Err(e),
        };
        c.push(NewTarget {
            login: Some(r.user.as_str().to_string()),
            source: f.source(r.row),
            classification: TargetClass::SkipNotFound,
            detail: format!("row {}: {why}", r.row),
            ..NewTarget::default()
        })
        .await?;
    }
    for e in f.errors {
        let classification = match e.problem {
            RowProblem::Duplicate { .. } => TargetClass::SkipDuplicate,
            _ => TargetClass::SkipBadRow,
        };
        c.push(NewTarget {
            login: (!e.value.is_empty()).then(|| e.value.clone()),
            source: f.source(e.row),
            classification,
            detail: e.reason(),
            ..NewTarget::default()
        })
        .await?;
    }
    Ok(())
}
