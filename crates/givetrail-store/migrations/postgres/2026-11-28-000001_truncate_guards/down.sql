-- Only the guards go; the append-only tables keep their rows.
DROP TRIGGER checkpoints_no_truncate ON checkpoints;
DROP TRIGGER entry_private_no_truncate ON entry_private;
