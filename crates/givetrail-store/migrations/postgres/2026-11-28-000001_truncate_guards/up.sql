-- Every append-only table refuses TRUNCATE as well as UPDATE and DELETE. TRUNCATE fires no row
-- triggers, so each table needs its own statement trigger; `entries`, `bank_statements`,
-- `bank_lines`, `complaints` and `complaint_events` have had one from the start. SQLite has no
-- TRUNCATE (its DELETE triggers already cover `DELETE FROM t`), so this migration adds nothing
-- there. Derived tables (facts, campaigns, lots, draws, allocations, disbursements, expenses,
-- merkle_nodes: `givetrail rebuild` deletes and rewrites them from the logs) and registrations
-- are not append-only and get no guard.
CREATE TRIGGER entry_private_no_truncate BEFORE TRUNCATE ON entry_private
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
