-- Second edition (corrections after receipt, costs on designated gifts). A recipient's statement
-- (acknowledgement, usage report) remembers the disbursement it is about and the units it states,
-- so that the recipient can correct it; a lot remembers whether its donor allows costs. These are
-- derived tables: rows written before this migration are filled by replaying each log
-- (`givetrail` rebuilds every organisation's derived tables when it applies this migration).
ALTER TABLE facts ADD COLUMN about_seq BIGINT;
ALTER TABLE facts ADD COLUMN units BIGINT NOT NULL DEFAULT 0;
CREATE INDEX facts_about ON facts (organization, about_seq);
-- The versions of a corrected fact (what a replacement replaced), followed by `voided_by`.
CREATE INDEX facts_voided_by ON facts (organization, voided_by);
ALTER TABLE lots ADD COLUMN costs_allowed BOOLEAN NOT NULL DEFAULT FALSE;
