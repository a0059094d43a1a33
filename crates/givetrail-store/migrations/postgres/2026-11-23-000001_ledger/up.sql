-- Registrations (not log entries).
CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    region_code TEXT NOT NULL,
    public_fundraising_qualified BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE recipients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    credit_code TEXT,
    kind TEXT NOT NULL,
    region_code TEXT NOT NULL,
    organization TEXT REFERENCES organizations (id),
    created_at BIGINT NOT NULL
);

-- Bearer keys, stored only as SHA-256 of the key.
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY NOT NULL,
    key_id TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    organization TEXT REFERENCES organizations (id),
    recipient TEXT REFERENCES recipients (id),
    jurisdiction TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- The log: one per organisation, append-only (see triggers).
CREATE TABLE entries (
    organization TEXT NOT NULL REFERENCES organizations (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    canonical TEXT NOT NULL,
    entry_hash TEXT NOT NULL,
    prev_entry_hash TEXT NOT NULL,
    leaf_hash TEXT NOT NULL,
    PRIMARY KEY (organization, seq)
);
CREATE INDEX entries_kind ON entries (organization, kind, seq);

-- Private values behind the commitments of an entry (regulators only); append-only.
CREATE TABLE entry_private (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    private TEXT NOT NULL,
    PRIMARY KEY (organization, seq)
);

-- Idempotency records: the first response to (key, Idempotency-Key).
CREATE TABLE idempotency (
    key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);

-- Derived state, rebuildable from the log (givetrail rebuild --check).
CREATE TABLE facts (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    voided_by BIGINT,
    PRIMARY KEY (organization, seq)
);

CREATE TABLE campaigns (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    region_code TEXT NOT NULL,
    public_fundraising BOOLEAN NOT NULL,
    record_number TEXT,
    emergency BOOLEAN NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT,
    voided_by BIGINT,
    PRIMARY KEY (organization, seq)
);
CREATE INDEX campaigns_id ON campaigns (organization, id);

CREATE TABLE lots (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    receipt_number TEXT NOT NULL,
    campaign TEXT,
    asset_key TEXT NOT NULL,
    received BIGINT NOT NULL,
    allocated BIGINT NOT NULL,
    expensed BIGINT NOT NULL,
    designated BOOLEAN NOT NULL,
    designated_region TEXT,
    designated_recipient TEXT,
    source_organization TEXT,
    source_seq BIGINT,
    occurred_at BIGINT NOT NULL,
    voided_by BIGINT,
    PRIMARY KEY (organization, seq),
    CHECK (allocated >= 0 AND expensed >= 0 AND allocated + expensed <= received)
);
CREATE INDEX lots_receipt ON lots (organization, receipt_number);
CREATE INDEX lots_pool ON lots (organization, asset_key, designated, occurred_at, seq);
CREATE INDEX lots_source ON lots (source_organization, source_seq);

CREATE TABLE draws (
    organization TEXT NOT NULL,
    by_seq BIGINT NOT NULL,
    donation_seq BIGINT NOT NULL,
    units BIGINT NOT NULL,
    expense BOOLEAN NOT NULL,
    PRIMARY KEY (organization, by_seq, donation_seq)
);
CREATE INDEX draws_donation ON draws (organization, donation_seq);

CREATE TABLE allocations (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    units BIGINT NOT NULL,
    disbursed BIGINT NOT NULL,
    pool BOOLEAN NOT NULL,
    donation_seq BIGINT,
    need TEXT,
    voided_by BIGINT,
    PRIMARY KEY (organization, seq),
    CHECK (disbursed >= 0 AND disbursed <= units)
);
CREATE INDEX allocations_recipient ON allocations (recipient);

CREATE TABLE disbursements (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    allocation_seq BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    units BIGINT NOT NULL,
    acknowledged BIGINT,
    used BIGINT NOT NULL,
    reference TEXT NOT NULL,
    voided_by BIGINT,
    PRIMARY KEY (organization, seq),
    CHECK (used >= 0 AND used <= COALESCE(acknowledged, 0))
);
CREATE INDEX disbursements_allocation ON disbursements (organization, allocation_seq);
CREATE INDEX disbursements_recipient ON disbursements (recipient);

CREATE TABLE expenses (
    organization TEXT NOT NULL,
    seq BIGINT NOT NULL,
    asset_key TEXT NOT NULL,
    units BIGINT NOT NULL,
    voided_by BIGINT,
    PRIMARY KEY (organization, seq)
);

-- The log and the private values are append-only: the database itself refuses changes.
CREATE FUNCTION givetrail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER entry_private_append_only BEFORE UPDATE OR DELETE ON entry_private
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
