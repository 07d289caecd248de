-- When each staged row was written (ms since the epoch), so that rows left by a process that died
-- mid-resolution can be swept (`Store::discard_staged_before`). 0 marks rows from before this
-- column: they are never swept, since an older replica may still be writing them.
ALTER TABLE staged_targets ADD COLUMN staged_at BIGINT NOT NULL DEFAULT 0;
