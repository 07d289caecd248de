//! The one place the store maps its coded columns (classification, outcome, sessions, decision,
//! sign-off kind, notice and step-up state, request state) to the domain's enums. Writing binds
//! `value.code()`; reading goes through `column`/`column_opt`, so a word the database holds
//! that no enum names is `StoreError::Corrupt` here, not a silent mismatch later. Id columns
//! read the same way through `id`/`id_opt`: a stored value that is not a valid id of its kind
//! (`domain::ids`) is `StoreError::Corrupt` too. Writing binds `id.as_str()`.

use std::str::FromStr;

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{StoreError, StoreResult};
use crate::domain::ids::IdError;
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

/// Parses a stored id.
fn parse_id<T: FromStr<Err = IdError>>(value: &str) -> StoreResult<T> {
    value
        .parse()
        .map_err(|e: IdError| StoreError::Corrupt(e.to_string()))
}

/// The id column `name` of `row`.
pub(super) fn id<'r, T, R>(row: &'r R, name: &str) -> StoreResult<T>
where
    T: FromStr<Err = IdError>,
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    let value: String = row.try_get(name)?;
    parse_id(&value)
}

/// The nullable id column `name` of `row`.
pub(super) fn id_opt<'r, T, R>(row: &'r R, name: &str) -> StoreResult<Option<T>>
where
    T: FromStr<Err = IdError>,
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let value: Option<String> = row.try_get(name)?;
    value.as_deref().map(parse_id).transpose()
}
