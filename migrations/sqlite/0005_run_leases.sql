-- A run is held by one replica at a time: the holder renews its lease; when the lease lapses
-- (the replica died), another replica takes the run over and continues from the journal.
ALTER TABLE requests ADD COLUMN lease_owner TEXT;
ALTER TABLE requests ADD COLUMN lease_until INTEGER;
