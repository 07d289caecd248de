-- See migrations/sqlite/0004_events.sql.
CREATE TABLE seen_events (
    event_key TEXT PRIMARY KEY,
    seen_at   BIGINT NOT NULL                   -- unix milliseconds
);
CREATE INDEX seen_events_at ON seen_events (seen_at);
