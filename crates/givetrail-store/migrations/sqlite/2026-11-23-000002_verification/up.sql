-- RFC 9162 Merkle tree of each log, as the hashes of its perfect aligned subtrees:
-- node (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level). Level 0 holds leaf hashes.
-- A proof reads O(log n) of these. Derived from the log (rebuildable).
CREATE TABLE merkle_nodes (
    organization TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (organization, level, idx)
);

-- Signed checkpoints of each log, one per committed write batch; append-only.
CREATE TABLE checkpoints (
    organization TEXT NOT NULL,
    tree_size BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (organization, tree_size)
);

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused'); END;
