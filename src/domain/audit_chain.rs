//! The hash chain's definition, pure: the store seals each event it appends with it, and
//! `audit verify` (audit/chain.rs, the walk) checks the chain with it. Here, not in `audit`,
//! because the store writes the chain and `audit` reads the store: each uses this, neither the
//! other. Each event's hash is SHA-256 over the RFC 8785 canonical JSON of
//! `{seq, at, request_id, actor, action, detail, prev_hash}`, where `prev_hash` is the hash of the
//! event before it (64 zeros for the first). Editing an event breaks its own hash; re-hashing it
//! breaks the next event's link; deleting one leaves a gap in `seq`; moving one puts `seq` out of
//! order. Deleting the newest events leaves a shorter valid chain: compare the head `audit verify`
//! prints with one kept elsewhere (a SIEM that ingests `audit export` holds every hash).

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// One event of the audit trail: what happened (`action`, `detail`), when, to which request, by
/// whom. Exactly what the chain hashes; the store keeps it with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: i64,
    pub request_id: Option<String>,
    pub actor: Option<String>,
    pub action: String,
    pub detail: serde_json::Value,
}

/// `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// RFC 8785 canonical JSON: keys sorted, no whitespace, numbers in their shortest form.
pub fn canonical(value: &impl Serialize) -> String {
    // Serializing a `serde_json::Value` or plain data cannot fail (no maps with non-string keys).
    serde_json_canonicalizer::to_string(value).expect("JSON values always serialize")
}

/// Lower-case hex SHA-256 of `value`'s canonical JSON (also the policy digest).
pub fn digest(value: &impl Serialize) -> String {
    hex::encode(Sha256::digest(canonical(value).as_bytes()))
}

/// The hash of the event at position `seq` whose predecessor's hash is `prev_hash`.
pub fn event_hash(seq: i64, e: &AuditEvent, prev_hash: &str) -> String {
    digest(&json!({
        "seq": seq,
        "at": e.at,
        "request_id": e.request_id,
        "actor": e.actor,
        "action": e.action,
        "detail": e.detail,
        "prev_hash": prev_hash,
    }))
}
