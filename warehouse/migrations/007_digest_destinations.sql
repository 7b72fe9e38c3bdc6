-- The digest ledger keyed by where a channel delivers (its destination), not its name: two
-- digest files may each have a channel called `archive` writing to different folders.
-- Rows from before stay NULL until a digest run adopts them for the channel of the same
-- kind and destination (claimwatch.delivery.ledger.adopt_history).
ALTER TABLE digests ADD COLUMN destination_key VARCHAR;
