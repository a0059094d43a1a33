DROP INDEX allocations_recipient;
DROP INDEX disbursements_recipient;
CREATE INDEX allocations_recipient ON allocations (recipient);
CREATE INDEX disbursements_recipient ON disbursements (recipient);
