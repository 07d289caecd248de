-- Same shape as migrations/sqlite/0001_init.sql, in PostgreSQL's types.
CREATE TABLE requests (
    id              TEXT PRIMARY KEY,
    team_id         TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    requester       TEXT NOT NULL,
    command_text    TEXT NOT NULL,
    reason          TEXT,
    dry_run         BOOLEAN NOT NULL,
    revoke_sessions BOOLEAN NOT NULL,
    state           TEXT NOT NULL,
    digest          TEXT NOT NULL,
    resolved_count  BIGINT NOT NULL,
    reset_count     BIGINT NOT NULL,
    root_ts         TEXT,
    progress_ts     TEXT,
    summary_ts      TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    started_at      BIGINT,
    finished_at     BIGINT,
    stop_reason     TEXT
);
CREATE INDEX requests_state ON requests (state);

CREATE TABLE decisions (
    request_id  TEXT PRIMARY KEY REFERENCES requests (id),
    decision    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    decided_at  BIGINT NOT NULL
);

CREATE TABLE targets (
    request_id      TEXT NOT NULL REFERENCES requests (id),
    seq             BIGINT NOT NULL,
    okta_id         TEXT,
    login           TEXT,
    email           TEXT,
    display_name    TEXT,
    status          TEXT,
    provider        TEXT,
    source          TEXT NOT NULL,
    classification  TEXT NOT NULL,
    detail          TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    outcome_reason  TEXT,
    okta_request_id TEXT,
    outcome_at      BIGINT,
    PRIMARY KEY (request_id, seq)
);
CREATE INDEX targets_outcome ON targets (request_id, outcome);

CREATE TABLE audit_events (
    id          BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    request_id  TEXT,
    actor       TEXT,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_request ON audit_events (request_id);
