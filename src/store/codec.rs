//! The one place the store maps its coded columns (classification, outcome, sessions, decision,
//! sign-off kind, notice and step-up state, request state) to the domain's enums. Writing binds
//! `value.code()`; reading goes through `column`/`column_opt`, so a word the database holds
//! that no enum names is `StoreError::Corrupt` here, not a silent mismatch later.

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{StoreError, StoreResult};
use crate::domain::kinds::Coded;

/// Parses a stored code.
pub(super) fn decode<T: Coded>(code: &str) -> StoreResult<T> {
    T::parse(code).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The coded column `name` of `row`.
pub(super) fn column<'r, T, R>(row: &'r R, name: &str) -> StoreResult<T>
where
    T: Coded,
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let code: String = row.try_get(name)?;
    decode(&code)
}

/// The nullable coded column `name` of `row`.
pub(super) fn column_opt<'r, T, R>(row: &'r R, name: &str) -> StoreResult<Option<T>>
where
    T: Coded,
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let code: Option<String> = row.try_get(name)?;
    code.as_deref().map(decode).transpose()
}
