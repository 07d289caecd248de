//! `audit verify`'s walk over the hash chain (defined in `domain::audit_chain`): the first event
//! where the chain does not hold, and what is wrong with it.

use crate::clock::format_utc;
use crate::domain::audit_chain::{event_hash, GENESIS};
use crate::store::AuditRecord;

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
