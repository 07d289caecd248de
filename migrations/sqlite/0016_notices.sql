-- policy.notify_users: one row per reset user the bot tried to tell by Slack DM. The row is
-- written (`sending`) before the first Slack call for that user, so a restart never DMs anyone
-- twice: a row left `sending` is reported as not notified (delivery unknown), never retried.
CREATE TABLE notices (
    request_id   TEXT NOT NULL REFERENCES requests (id),
    seq          INTEGER NOT NULL,             -- the target's seq
    state        TEXT NOT NULL,                -- sending | notified | not_notified
    reason       TEXT,                         -- why not notified
    slack_user   TEXT,                         -- the person's Slack id, once found
    dm_channel   TEXT,
    dm_ts        TEXT,                         -- the DM carrying "I didn't expect this"
    reported_at  INTEGER,                      -- unix ms of their "I didn't expect this"
    at           INTEGER NOT NULL,             -- unix ms of the last change
    PRIMARY KEY (request_id, seq)
);
