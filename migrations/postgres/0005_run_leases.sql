-- See migrations/sqlite/0005_run_leases.sql.
ALTER TABLE requests ADD COLUMN lease_owner TEXT;
ALTER TABLE requests ADD COLUMN lease_until BIGINT;
