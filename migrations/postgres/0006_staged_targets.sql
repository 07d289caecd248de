-- Targets of a request still being resolved, written page by page as Okta answers so that a
-- large group never has to fit in memory. `create_request_from_staged` moves them into `targets`
-- together with the request row in one transaction; a refused request deletes them. No foreign
-- key: the request row does not exist yet while they are written.
CREATE TABLE staged_targets (
    request_id      TEXT NOT NULL,
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
    PRIMARY KEY (request_id, seq)
);
