-- The history of the checkpoint signing key, oldest first; append-only. Row 1 is the first key
-- (no rotation); every later row was introduced by a rotation record (its JSON, with the old
-- key's and the new key's signatures over its RFC 8785 form).
CREATE TABLE signing_keys (
    seq BIGINT NOT NULL PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL,
    rotation TEXT
);

CREATE TRIGGER signing_keys_append_only BEFORE UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER signing_keys_no_truncate BEFORE TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
