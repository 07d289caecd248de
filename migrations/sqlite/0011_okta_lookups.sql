-- Every request that reached Okta, whether it was then stored or refused (too many users, nothing
-- to reset, a protected account, …): `policy.max_requests_per_hour` counts these too, so requests
-- refused after the lookup cannot be repeated without limit. Written before Okta is asked.
CREATE TABLE okta_lookups (
    request_id  TEXT PRIMARY KEY,
    requester   TEXT NOT NULL,                 -- Slack user id
    at          INTEGER NOT NULL               -- unix milliseconds
);
CREATE INDEX okta_lookups_requester_at ON okta_lookups (requester, at);
