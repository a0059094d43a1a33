DROP INDEX facts_voided_by;
DROP INDEX facts_about;
ALTER TABLE facts DROP COLUMN about_seq;
ALTER TABLE facts DROP COLUMN units;
ALTER TABLE lots DROP COLUMN costs_allowed;
