-- The per-person limits (requests per hour, users to reset per day) read one person's requests
-- of the last day on every request: index them by requester and time.
CREATE INDEX requests_requester_created ON requests (requester, created_at);
