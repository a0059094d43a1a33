-- Bank lines and complaints are records of what was said; they are never migrated away.
SELECT RAISE(ABORT, 'irreversible');
