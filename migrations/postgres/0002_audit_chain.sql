-- See migrations/sqlite/0002_audit_chain.sql: the audit log becomes a hash chain, and the store
-- records its schema version so an older okta-reset refuses a newer store in plain words.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_seq ON audit_events (seq);
CREATE INDEX audit_at ON audit_events (at);

CREATE TABLE schema_version (
    version BIGINT NOT NULL
);
INSERT INTO schema_version (version) VALUES (2);
