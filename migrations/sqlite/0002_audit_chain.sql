-- The audit log becomes a hash chain: each event carries its position (`seq`, 1, 2, 3, … with no
-- gaps), the previous event's hash and its own hash over its canonical JSON (RFC 8785). The
-- chain is extended in one transaction (read the head, insert), so concurrent appends cannot fork
-- it. Events written before this migration are sealed by the bot when it first opens the store.
ALTER TABLE audit_events ADD COLUMN seq INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_seq ON audit_events (seq);
CREATE INDEX audit_at ON audit_events (at);

-- Which schema the store is at, so an older okta-reset can refuse a newer store in plain words
-- instead of failing half-way. The bot raises it to its newest migration's number on every open.
CREATE TABLE schema_version (
    version INTEGER NOT NULL
);
INSERT INTO schema_version (version) VALUES (2);
