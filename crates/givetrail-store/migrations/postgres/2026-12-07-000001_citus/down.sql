-- Undoes the Citus distribution (PostgreSQL with the `citus` extension only).
DO $citus$
DECLARE
    t TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['complaint_events', 'complaints', 'bank_lines', 'bank_statements',
                             'checkpoints', 'merkle_nodes', 'expenses', 'disbursements',
                             'allocations', 'draws', 'lots', 'campaigns', 'facts',
                             'entry_private', 'entries', 'signing_keys', 'needs', 'api_keys',
                             'recipients', 'organizations'] LOOP
        PERFORM undistribute_table(t, cascade_via_foreign_keys => true)
            FROM pg_dist_partition WHERE logicalrelid = t::regclass;
    END LOOP;
    DROP INDEX complaints_code;
    ALTER TABLE complaints ADD CONSTRAINT complaints_code_key UNIQUE (code);
END
$citus$;
