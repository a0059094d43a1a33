-- Oversight (second edition §9.5–9.6). A recipient's ownership (`public`, `private`,
-- `nonprofit`, or unknown) and whether the health authority designated it to treat the
-- emergency's patients: both public, both read by the needs section of the reconciliation.
ALTER TABLE recipients ADD COLUMN ownership TEXT;
ALTER TABLE recipients ADD COLUMN designated_hospital BOOLEAN NOT NULL DEFAULT FALSE;
-- Lots of one kind of goods across organisations by date: the purchases the procurement
-- section compares a unit price with.
CREATE INDEX lots_asset_time ON lots (asset_key, occurred_at);
