//! Uploaded CSV files → the users they name, with a numbered reason for every row that cannot be
//! used. Pure: bytes in, targets and per-row errors out; nothing here calls Okta or Slack.
//!
//! Recognised: Rockstar's "Export Users" (`User Id,Status,Username,…`) and "Export Group Members"
//! (`id,login,…`), Okta reports (`user.Id`, `Username`, `Login`, `Primary email`, `email`), any
//! header naming an id, login or email column, and a headerless single column of ids, logins or
//! emails. Headers match case-insensitively; the id column wins over login and email. Also: a
//! UTF-8 BOM, CRLF, quoted fields with commas, quotes and line breaks, `;` or tab delimiters
//! (spreadsheets in many locales), blank lines, surrounding spaces, duplicates.
//!
//! Row numbers are the file's line numbers (the header is row 1), as a spreadsheet or an editor
//! shows them. A row whose cells are all empty is blank, not a row: spreadsheets pad exports
//! with them. Every other row ends up exactly once as a target or as a [`RowError`].

mod columns;
mod sniff;

use std::collections::HashMap;

use csv::{ByteRecord, ReaderBuilder};

use crate::domain::command::UserRef;
use crate::domain::ids::{clip_for_display, OktaUserId};

pub use columns::Columns;
pub use sniff::{check_content, check_metadata, NotCsv};

/// The most the bot downloads of one file; reading stops past it.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Longest usable cell, in characters (Okta logins and emails are far shorter).
pub const MAX_VALUE_CHARS: usize = 256;

/// A user named on one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTarget {
    pub row: usize,
    pub user: UserRef,
}

/// A row that names nobody usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    /// The cell as given, clipped for display (may be empty). Escape before showing it.
    pub value: String,
    pub problem: RowProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("no id, login or email in this row")]
    Empty,
    #[error("not an Okta user id (expected 20 letters/digits starting with 00u)")]
    BadId,
    #[error("duplicate of row {first_row}")]
    Duplicate { first_row: usize },
    #[error("not valid UTF-8 text (save the file as CSV UTF-8)")]
    NotUtf8,
    #[error("contains control characters")]
    ControlChars,
    #[error("longer than {MAX_VALUE_CHARS} characters")]
    TooLong,
}

impl RowError {
    /// "row 7: not an Okta user id (…)" — plain text; the value is kept apart.
    pub fn reason(&self) -> String {
        format!("row {}: {}", self.row, self.problem)
    }
}

/// How the file was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    Header(Columns),
    /// No header: the first column of every row.
    SingleColumn,
}

impl Layout {
    /// For the audit log and messages: "Rockstar “Export Users”, column User Id".
    pub fn describe(&self) -> String {
        match self {
            Layout::SingleColumn => "a single column without a header".to_string(),
            Layout::Header(c) => {
                let used: Vec<&str> = [c.id, c.login, c.email]
                    .into_iter()
                    .filter_map(|i| c.header(i))
                    .collect();
                format!("{}, column {}", c.format(), used.join(" / "))
            }
        }
    }
}

/// Everything read from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTargets {
    pub layout: Layout,
    /// Rows read (blank rows and the header excluded): `targets.len() + errors.len()`.
    pub rows: usize,
    pub targets: Vec<CsvTarget>,
    pub errors: Vec<RowError>,
}

/// Why a whole file cannot be used. Plain values: the caller words them for the person
/// (`service::upload`, with the file's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("not a CSV file: {}", .0.noun())]
    NotCsv(NotCsv),
    #[error("UTF-16 text")]
    Utf16,
    #[error("larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    #[error("no recognisable column (first row: {})", .first_row.join(", "))]
    NoColumn { first_row: Vec<String> },
    #[error("no rows")]
    NoRows,
}

/// Reads a whole file. Refuses it only when no row could ever be used (not text, no usable
/// column, nothing but a header); otherwise every row becomes a target or a [`RowError`].
pub fn read(bytes: &[u8]) -> Result<CsvTargets, CsvError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    check_content(bytes)?;
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff::delimiter(bytes))
        .from_reader(bytes);
    let mut records = reader.byte_records().filter_map(|r| match r {
        // Reading from memory with `flexible` leaves no error but bad UTF-8, which byte records
        // do not check: nothing is lost by skipping the impossible.
        Ok(rec) => (!is_blank(&rec)).then_some(rec),
        Err(_) => None,
    });
    let first = records.next().ok_or(CsvError::NoRows)?;
    let first_cells: Vec<String> = first.iter().map(|c| clean(&lossy(c))).collect();
    let (layout, first_is_data) = match Columns::find(&first_cells) {
        Some(cols) => (Layout::Header(cols), false),
        None => {
            let non_empty: Vec<&String> = first_cells.iter().filter(|c| !c.is_empty()).collect();
            if non_empty.len() == 1
                && !first_cells[0].is_empty()
                && columns::is_headerless_value(&first_cells[0])
            {
                (Layout::SingleColumn, true)
            } else {
                return Err(CsvError::NoColumn {
                    first_row: first_cells
                        .iter()
                        .take(8)
                        .map(|c| clip_for_display(c))
                        .collect(),
                });
            }
        }
    };
    let mut out = CsvTargets {
        layout,
        rows: 0,
        targets: Vec::new(),
        errors: Vec::new(),
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let lines = LineStarts::new(bytes);
    let data = first_is_data.then_some(first).into_iter().chain(records);
    for rec in data {
        let row = lines.row_at(bytes, rec.position().map_or(0, |p| p.byte() as usize));
        out.rows += 1;
        match pick(&out.layout, &rec) {
            Ok(user) => {
                let key = match &user {
                    UserRef::Id(id) => id.to_string(),
                    UserRef::Login(l) => l.to_lowercase(),
                };
                if let Some(&first_row) = seen.get(&key) {
                    out.errors.push(RowError {
                        row,
                        value: clip_for_display(user.as_str()),
                        problem: RowProblem::Duplicate { first_row },
                    });
                } else {
                    seen.insert(key, row);
                    out.targets.push(CsvTarget { row, user });
                }
            }
            Err((value, problem)) => out.errors.push(RowError {
                row,
                value: clip_for_display(&value),
                problem,
            }),
        }
    }
    if out.rows == 0 {
        return Err(CsvError::NoRows);
    }
    Ok(out)
}

/// The user one row names, or the cell and what is wrong with it.
fn pick(layout: &Layout, rec: &ByteRecord) -> Result<UserRef, (String, RowProblem)> {
    let cell = |i: Option<usize>| -> Option<&[u8]> {
        let c = rec.get(i?)?;
        (!clean(&lossy(c)).is_empty()).then_some(c)
    };
    let (raw, is_id_column) = match layout {
        Layout::SingleColumn => (cell(Some(0)), false),
        Layout::Header(c) => match cell(c.id) {
            Some(id) => (Some(id), true),
            None => (cell(c.login).or_else(|| cell(c.email)), false),
        },
    };
    let raw = raw.ok_or((String::new(), RowProblem::Empty))?;
    let text = std::str::from_utf8(raw).map_err(|_| (lossy(raw), RowProblem::NotUtf8))?;
    let value = clean(text);
    if value.chars().any(char::is_control) {
        return Err((
            value.replace(char::is_control, "�"),
            RowProblem::ControlChars,
        ));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err((value, RowProblem::TooLong));
    }
    if is_id_column || columns::is_broken_id(&value) {
        return OktaUserId::parse(&value)
            .map(UserRef::Id)
            .map_err(|_| (value, RowProblem::BadId));
    }
    Ok(match OktaUserId::parse(&value) {
        Ok(id) => UserRef::Id(id),
        Err(_) => UserRef::Login(value),
    })
}

/// Surrounding spaces (including non-breaking ones) and invisible marks pasted along with values.
fn clean(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}'))
        .to_string()
}

/// Line numbers by byte offset. csv counts only `\n`; a file with old Mac `\r` endings would
/// put every row on line 1, so lines are counted here the way an editor shows them.
struct LineStarts(Vec<usize>);

impl LineStarts {
    fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                starts.push(i + 1);
            }
        }
        Self(starts)
    }

    /// 1-based line of the record csv placed at `offset`: csv reports where it began reading,
    /// which is before the line breaks (the `\n` of a CRLF, blank lines) it skipped.
    fn row_at(&self, bytes: &[u8], offset: usize) -> usize {
        let skipped = bytes.get(offset..).map_or(0, |rest| {
            rest.iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count()
        });
        self.0.partition_point(|&s| s <= offset + skipped)
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn is_blank(rec: &ByteRecord) -> bool {
    rec.iter().all(|c| clean(&lossy(c)).is_empty())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
