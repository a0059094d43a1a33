ALTER TABLE needs DROP COLUMN withdrawal_reason;
ALTER TABLE needs DROP COLUMN withdrawn_at;
