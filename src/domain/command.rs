//! Command grammar.
