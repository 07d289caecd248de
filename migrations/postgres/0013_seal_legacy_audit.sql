-- See migrations/sqlite/0013_seal_legacy_audit.sql.
CREATE TABLE audit_legacy_seal (
    sealed_at   BIGINT NOT NULL,
    events      BIGINT NOT NULL
);
