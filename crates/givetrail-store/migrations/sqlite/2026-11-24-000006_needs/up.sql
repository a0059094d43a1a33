-- Needs posted by recipients (registrations, not log entries). Their progress (pledged,
-- delivered) is derived from the logs: allocations naming the need and the acknowledgements of
-- their disbursements.
CREATE TABLE needs (
    id TEXT PRIMARY KEY NOT NULL,
    number BIGINT NOT NULL UNIQUE,
    recipient TEXT NOT NULL REFERENCES recipients (id),
    region_code TEXT NOT NULL,
    asset_key TEXT NOT NULL,
    item TEXT NOT NULL,
    units BIGINT NOT NULL,
    urgency TEXT NOT NULL,
    needed_by BIGINT,
    note TEXT NOT NULL,
    posted_at BIGINT NOT NULL,
    CHECK (units > 0)
);
CREATE INDEX needs_recipient ON needs (recipient, number);
CREATE INDEX needs_asset ON needs (asset_key, number);
CREATE INDEX needs_region ON needs (region_code, number);
CREATE INDEX allocations_need ON allocations (need);
