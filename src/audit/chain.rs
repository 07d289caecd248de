//! The hash chain. Each event's hash is SHA-256 over the RFC 8785 canonical JSON of
//! `{seq, at, request_id, actor, action, detail, prev_hash}`, where `prev_hash` is the hash of the
//! event before it (64 zeros for the first). Editing an event breaks its own hash; re-hashing it
//! breaks the next event's link; deleting one leaves a gap in `seq`; moving one puts `seq` out of
//! order. Deleting the newest events leaves a shorter valid chain: compare the head `audit verify`
//! prints with one kept elsewhere (a SIEM that ingests `audit export` holds every hash).

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clock::format_utc;
use crate::store::{AuditEvent, AuditRecord};

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

/// What `audit verify` found wrong, at the first event where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The row has no chain columns: written or altered past the bot.
    Unsealed,
    /// The event's content no longer matches its own hash.
    Edited,
    /// The event's `prev_hash` is not the hash of the event before it: that one was altered and
    /// re-hashed, or the chain was spliced.
    Unlinked { previous: i64 },
    /// Events `from..=to` are not there: after `after` comes this event.
    Missing {
        after: Option<i64>,
        from: i64,
        to: i64,
    },
    /// This event (`seq`) is stored after a later one (`after`).
    Reordered { after: i64 },
}

/// The first event where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub id: i64,
    pub seq: Option<i64>,
    pub action: String,
    pub at: i64,
    pub problem: Problem,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = format!(
            "`{}` at {}, row id {}",
            self.action,
            format_utc(self.at),
            self.id
        );
        let n = self.seq.unwrap_or(0);
        match &self.problem {
            Problem::Unsealed => write!(
                f,
                "the event in row id {} ({what}) has no chain hash: it was written or altered outside okta-reset",
                self.id
            ),
            Problem::Edited => write!(
                f,
                "event #{n} ({what}) was edited: its content no longer matches its hash"
            ),
            Problem::Unlinked { previous: 0 } => write!(
                f,
                "event #{n} ({what}) does not start the chain: its previous hash is not the genesis value"
            ),
            Problem::Unlinked { previous } => write!(
                f,
                "event #{n} ({what}) does not follow event #{previous}: #{previous} was altered and re-hashed, or the chain was spliced"
            ),
            Problem::Missing { after, from, to } => {
                let gone = if from == to {
                    format!("event #{from} is missing")
                } else {
                    format!("events #{from} to #{to} are missing")
                };
                match after {
                    Some(a) => write!(f, "{gone}: after event #{a} comes #{n} ({what}); deleted from the log"),
                    None => write!(f, "{gone}: the log starts at event #{n} ({what}); deleted from the log"),
                }
            }
            Problem::Reordered { after } => write!(
                f,
                "event #{n} ({what}) is stored after event #{after}: the log was reordered"
            ),
        }
    }
}

/// Walks records in storage order, one at a time, keeping only the last link.
#[derive(Debug, Default)]
pub struct Walker {
    last: Option<(i64, String)>,
    pub checked: u64,
}

impl Walker {
    /// Checks `r`; `next` (the record after it, if any) tells a moved event from a deleted one.
    pub fn check(&mut self, r: &AuditRecord, next: Option<&AuditRecord>) -> Result<(), Break> {
        let brk = |problem| Break {
            id: r.id,
            seq: r.seq,
            action: r.event.action.clone(),
            at: r.event.at,
            problem,
        };
        let (Some(seq), Some(prev_hash), Some(hash)) = (r.seq, &r.prev_hash, &r.hash) else {
            return Err(brk(Problem::Unsealed));
        };
        let (last_seq, last_hash) = match &self.last {
            Some((s, h)) => (Some(*s), h.as_str()),
            None => (None, GENESIS),
        };
        let expected = last_seq.map_or(1, |s| s + 1);
        if let Some(last) = last_seq.filter(|l| seq <= *l) {
            return Err(brk(Problem::Reordered { after: last }));
        }
        if seq > expected {
            // A skipped event stored right after this one was moved, not deleted.
            if let Some(n) = next
                .and_then(|n| n.seq)
                .filter(|s| (expected..seq).contains(s))
            {
                let moved = next.expect("has a seq");
                return Err(Break {
                    id: moved.id,
                    seq: Some(n),
                    action: moved.event.action.clone(),
                    at: moved.event.at,
                    problem: Problem::Reordered { after: seq },
                });
            }
            return Err(brk(Problem::Missing {
                after: last_seq,
                from: expected,
                to: seq - 1,
            }));
        }
        if event_hash(seq, &r.event, prev_hash) != *hash {
            return Err(brk(Problem::Edited));
        }
        if prev_hash != last_hash {
            return Err(brk(Problem::Unlinked {
                previous: expected - 1,
            }));
        }
        self.last = Some((seq, hash.clone()));
        self.checked += 1;
        Ok(())
    }

    /// The last event checked: `(seq, hash)`.
    pub fn head(&self) -> Option<(i64, &str)> {
        self.last.as_ref().map(|(s, h)| (*s, h.as_str()))
    }
}
