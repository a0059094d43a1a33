-- The history of the checkpoint signing key, oldest first; append-only. Row 1 is the first key
-- (no rotation); every later row was introduced by a rotation record (its JSON, with the old
-- key's and the new key's signatures over its RFC 8785 form).
CREATE TABLE signing_keys (
    seq BIGINT NOT NULL PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL,
    rotation TEXT
);

CREATE TRIGGER signing_keys_no_update BEFORE UPDATE ON signing_keys
BEGIN SELECT RAISE(ABORT, 'signing_keys are append-only: UPDATE refused'); END;
CREATE TRIGGER signing_keys_no_delete BEFORE DELETE ON signing_keys
BEGIN SELECT RAISE(ABORT, 'signing_keys are append-only: DELETE refused'); END;
