//! Pure domain logic: no I/O. Parsed at the edge, decided here.

pub mod approvals;
pub mod audit_chain;
pub mod classify;
pub mod command;
pub mod digest;
pub mod ids;
pub mod kinds;
pub mod limits;
pub mod policy;
pub mod records;
pub mod request;
pub mod search_expr;
