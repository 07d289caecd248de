-- See migrations/sqlite/0011_okta_lookups.sql.
CREATE TABLE okta_lookups (
    request_id  TEXT PRIMARY KEY,
    requester   TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX okta_lookups_requester_at ON okta_lookups (requester, at);
