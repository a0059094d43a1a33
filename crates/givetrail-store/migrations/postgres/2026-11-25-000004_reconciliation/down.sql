-- Bank lines and complaints are records of what was said; they are never migrated away.
DO $$ BEGIN RAISE EXCEPTION 'irreversible'; END $$;
