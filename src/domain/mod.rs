//! Pure domain logic: no I/O. Parsed at the edge, decided here.

pub mod command;
pub mod ids;
