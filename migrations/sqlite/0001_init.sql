-- One row per request: who asked, why, what state it is in, and where its thread lives.
CREATE TABLE requests (
    id              TEXT PRIMARY KEY,          -- R-XXXXXXXX
    team_id         TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    requester       TEXT NOT NULL,             -- Slack user id
    command_text    TEXT NOT NULL,             -- canonical form of what was asked
    reason          TEXT,
    dry_run         INTEGER NOT NULL,
    revoke_sessions INTEGER NOT NULL,
    state           TEXT NOT NULL,
    digest          TEXT NOT NULL,             -- sha256 of the sorted ids to reset
    resolved_count  INTEGER NOT NULL,
    reset_count     INTEGER NOT NULL,          -- targets classified `reset`
    root_ts         TEXT,                      -- the approval message (thread root)
    progress_ts     TEXT,
    summary_ts      TEXT,
    created_at      INTEGER NOT NULL,          -- unix milliseconds
    expires_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    stop_reason     TEXT
);
CREATE INDEX requests_state ON requests (state);

-- At most one decision per request: the primary key makes a second one fail.
CREATE TABLE decisions (
    request_id  TEXT PRIMARY KEY REFERENCES requests (id),
    decision    TEXT NOT NULL,                 -- approved | denied | cancelled
    actor       TEXT NOT NULL,                 -- Slack user id
    decided_at  INTEGER NOT NULL
);

-- The frozen snapshot: every resolved target with its classification, then its outcome.
CREATE TABLE targets (
    request_id      TEXT NOT NULL REFERENCES requests (id),
    seq             INTEGER NOT NULL,
    okta_id         TEXT,
    login           TEXT,
    email           TEXT,
    display_name    TEXT,
    status          TEXT,
    provider        TEXT,
    source          TEXT NOT NULL,             -- what the request named (group:x, user:y)
    classification  TEXT NOT NULL,             -- reset | skip_*
    detail          TEXT NOT NULL,             -- why, in words
    outcome         TEXT NOT NULL,             -- pending | in_flight | reset | failed | skipped
    outcome_reason  TEXT,
    okta_request_id TEXT,
    outcome_at      INTEGER,
    PRIMARY KEY (request_id, seq)
);
CREATE INDEX targets_outcome ON targets (request_id, outcome);

-- Who did what, when. Append-only.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    request_id  TEXT,
    actor       TEXT,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL                  -- JSON
);
CREATE INDEX audit_request ON audit_events (request_id);
