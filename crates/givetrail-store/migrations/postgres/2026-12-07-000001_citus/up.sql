-- Citus (distributed PostgreSQL): when the database has the `citus` extension, the per-organisation
-- tables are distributed by `organization`, colocated with `entries` (an organisation's log, its
-- derived tables, checkpoints, bank statements and complaints all live in one shard group on one
-- worker), and the registry tables become reference tables (a copy on every node). On a plain
-- PostgreSQL this migration does nothing. ARCHITECTURE.md ("Citus") says what Citus forbids and
-- what replaces it.
DO $citus$
DECLARE
    t TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    -- Already distributed (this block run again by hand on a database restored from elsewhere,
    -- see README.md): nothing to do.
    IF EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'entries'::regclass) THEN
        RETURN;
    END IF;
    -- The append-only row triggers only raise an error; they read no other table, so none of the
    -- visibility or deadlock hazards this setting warns about applies. Needed to distribute a
    -- table that has row triggers; the triggers are created on every shard.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    -- One connection per worker within this transaction: the DDL that follows in the same
    -- transaction may then touch the shards just created.
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);

    -- A unique constraint on a distributed table must include the distribution column. Tracking
    -- codes are 128-bit random values; (organization, code) stays the primary key.
    ALTER TABLE complaints DROP CONSTRAINT complaints_code_key;
    CREATE INDEX complaints_code ON complaints (code);

    -- Foreign keys between two distributed tables are kept (they include the distribution column,
    -- so each is checked within one shard group), but they must be dropped while the tables change
    -- kind and are added again once both sides are distributed.
    ALTER TABLE bank_lines DROP CONSTRAINT bank_lines_organization_statement_fkey;
    ALTER TABLE complaint_events DROP CONSTRAINT complaint_events_organization_code_fkey;

    -- Registry: read by every organisation's writes and joins, written rarely.
    FOREACH t IN ARRAY ARRAY['organizations', 'recipients', 'api_keys', 'needs', 'signing_keys'] LOOP
        PERFORM create_reference_table(t);
    END LOOP;

    PERFORM create_distributed_table('entries', 'organization');
    FOREACH t IN ARRAY ARRAY['entry_private', 'facts', 'campaigns', 'lots', 'draws',
                             'allocations', 'disbursements', 'expenses', 'merkle_nodes',
                             'checkpoints', 'bank_statements', 'bank_lines', 'complaints',
                             'complaint_events'] LOOP
        PERFORM create_distributed_table(t, 'organization', colocate_with => 'entries');
    END LOOP;

    ALTER TABLE bank_lines ADD CONSTRAINT bank_lines_organization_statement_fkey
        FOREIGN KEY (organization, statement) REFERENCES bank_statements (organization, seq);
    ALTER TABLE complaint_events ADD CONSTRAINT complaint_events_organization_code_fkey
        FOREIGN KEY (organization, code) REFERENCES complaints (organization, code);
END
$citus$;
