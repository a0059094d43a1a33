-- The ledger is never migrated down: its history is the point.
DO $$ BEGIN RAISE EXCEPTION 'irreversible'; END $$;
