-- Okta step-up confirmations of an Approve or a Continue (policy.step_up): started at the click,
-- finished by a browser callback or a push result that may reach another replica, so they live
-- here. Only hashes of the one-time link TOKEN, the OIDC `state` and the `nonce` are stored.
CREATE TABLE step_ups (
    token_hash      TEXT PRIMARY KEY,          -- SHA-256 (hex) of the link's TOKEN (push: of a random id)
    request_id      TEXT NOT NULL REFERENCES requests (id),
    kind            TEXT NOT NULL,             -- approve | continue
    method          TEXT NOT NULL,             -- okta_oidc | okta_verify_push
    digest          TEXT NOT NULL,             -- the snapshot digest the approver clicked on
    slack_user      TEXT NOT NULL,
    channel_id      TEXT NOT NULL,
    okta_user       TEXT NOT NULL,             -- the Okta user id bound at the click
    okta_login      TEXT NOT NULL,
    clicked_at      INTEGER NOT NULL,          -- unix milliseconds
    expires_at      INTEGER NOT NULL,          -- unix milliseconds
    state           TEXT NOT NULL,             -- issued | started | checking | confirmed | failed | superseded
    oidc_state_hash TEXT UNIQUE,
    nonce_hash      TEXT,
    pkce_verifier   TEXT,
    amr             TEXT,
    auth_time       INTEGER,                   -- unix milliseconds
    settled_at      INTEGER
);
CREATE INDEX step_ups_by_approver ON step_ups (request_id, slack_user, kind);
