-- Reads about one recipient walk these in order and stop early: whether an organisation gave to
-- it (one probe per organisation: the recipient view) and the allocation and disbursement feeds
-- filtered by a recipient, or by a region's few recipients one at a time (seq order, stopping at
-- the page). They replace the indexes on `recipient` alone.
DROP INDEX allocations_recipient;
DROP INDEX disbursements_recipient;
CREATE INDEX allocations_recipient ON allocations (recipient, organization, seq);
CREATE INDEX disbursements_recipient ON disbursements (recipient, organization, seq);
