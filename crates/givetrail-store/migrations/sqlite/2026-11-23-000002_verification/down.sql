-- The ledger is never migrated down: its history is the point.
SELECT RAISE(ABORT, 'irreversible');
