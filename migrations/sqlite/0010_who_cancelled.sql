-- Who cancelled a request and when, kept apart from the decision row: a cancel after approval
-- must not be shown as the approver's. `continue_ts` is the message that carries a paused run's
-- Continue button (the progress message, or the thread notice when that could not be edited): a
-- Continue click is accepted only on it, as an Approve or Deny only on the approval message.
ALTER TABLE requests ADD COLUMN cancelled_by TEXT;
ALTER TABLE requests ADD COLUMN cancelled_at INTEGER;
ALTER TABLE requests ADD COLUMN continue_ts TEXT;
