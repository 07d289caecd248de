-- See migrations/sqlite/0010_who_cancelled.sql.
ALTER TABLE requests ADD COLUMN cancelled_by TEXT;
ALTER TABLE requests ADD COLUMN cancelled_at BIGINT;
ALTER TABLE requests ADD COLUMN continue_ts TEXT;
