-- Who registered a recipient and which regulator confirmed it (issue 18, "fake hospitals").
-- `registered_by_role` is `charity` or `regulator`; `registered_by` is the charity's organisation
-- slug or the regulator's jurisdiction prefix. A regulator's registration is its own
-- confirmation; a charity's stays unconfirmed until a regulator covering the recipient's region
-- confirms it (`confirmed_by`: that regulator's jurisdiction, `confirmed_at`: µs). Recipients
-- registered before this migration have all four NULL: nobody knows who registered them.
ALTER TABLE recipients ADD COLUMN registered_by_role TEXT;
ALTER TABLE recipients ADD COLUMN registered_by TEXT;
ALTER TABLE recipients ADD COLUMN confirmed_by TEXT;
ALTER TABLE recipients ADD COLUMN confirmed_at BIGINT;
-- Recipients of the same name (`recipient_name_duplicate`) and those a charity registered.
CREATE INDEX recipients_name ON recipients (name);
CREATE INDEX recipients_registered_by ON recipients (registered_by);
