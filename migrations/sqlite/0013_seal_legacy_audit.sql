-- Events written before the hash chain existed are sealed into it once, by this migration: its
-- SQL creates this table, and the bot, right after applying it, seals the unchained rows (only
-- if no event is chained yet) and records that here, in one transaction
-- (`sqlite_audit::seal_legacy`). With a row here nothing is ever sealed again: a row found
-- without its hash afterwards was altered outside the bot, and `audit verify` reports it.
CREATE TABLE audit_legacy_seal (
    sealed_at   INTEGER NOT NULL,              -- unix milliseconds
    events      INTEGER NOT NULL               -- how many legacy events were sealed
);
