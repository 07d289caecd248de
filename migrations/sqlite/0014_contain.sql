-- `--contain` (issue 16): a request may also end every session, OAuth token and remembered
-- device of each user after their reset. The revocation is journalled per user apart from the
-- reset's outcome, so a resume finishes a revocation without resetting anyone twice.
ALTER TABLE requests ADD COLUMN contain INTEGER NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN sessions TEXT;         -- NULL (not attempted), 'ended', 'not_ended'
ALTER TABLE targets ADD COLUMN sessions_reason TEXT;  -- why, when 'not_ended'
