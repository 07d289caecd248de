-- Who signed a request off, beyond the one decision row: every approval (`approve`: a request
-- above policy.two_approvers_above needs two distinct approvers, and the first is recorded here
-- while the request stays pending) and the Continue after a canary pause (`continue`). The
-- primary key makes one approver's second approval fail instead of counting twice.
CREATE TABLE sign_offs (
    request_id  TEXT NOT NULL REFERENCES requests (id),
    kind        TEXT NOT NULL,                 -- approve | continue
    actor       TEXT NOT NULL,                 -- Slack user id
    at          BIGINT NOT NULL,                -- unix milliseconds
    PRIMARY KEY (request_id, kind, actor)
);
