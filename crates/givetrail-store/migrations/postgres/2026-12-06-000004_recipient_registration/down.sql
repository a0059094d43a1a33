DROP INDEX recipients_registered_by;
DROP INDEX recipients_name;
ALTER TABLE recipients DROP COLUMN confirmed_at;
ALTER TABLE recipients DROP COLUMN confirmed_by;
ALTER TABLE recipients DROP COLUMN registered_by;
ALTER TABLE recipients DROP COLUMN registered_by_role;
