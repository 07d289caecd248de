-- Inbound Slack events already taken in hand: a retry (X-Slack-Retry-Num) or the second
-- delivery of the same shared file (app_mention and message/file_share) finds its key here and
-- is dropped. Keys are `event:Ev…` (Slack's event_id) or `message:CHANNEL:TS`.
CREATE TABLE seen_events (
    event_key TEXT PRIMARY KEY,
    seen_at   INTEGER NOT NULL                  -- unix milliseconds
);
CREATE INDEX seen_events_at ON seen_events (seen_at);
