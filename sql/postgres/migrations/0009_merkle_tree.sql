-- The transparency log (docs/integrity.md section 8): the Merkle tree over
-- the global feed, one row per stored hash at its index in
-- golang.org/x/mod/sumdb/tlog's stored-hash order (about two per leaf), and
-- the signed checkpoints. Rows are inserted, never updated: a stored hash
-- never changes, and a checkpoint's size has one root forever.

CREATE TABLE merkle_hashes (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea  NOT NULL CHECK (length(hash) = 32)
);

-- The number of leaves whose hashes are stored, moved in the same
-- transaction as the hashes it covers.
CREATE TABLE merkle_tree (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    size      bigint  NOT NULL CHECK (size >= 0)
);

INSERT INTO merkle_tree (size) VALUES (0);

CREATE TABLE merkle_checkpoints (
    size       bigint      PRIMARY KEY CHECK (size >= 0),
    root       bytea       NOT NULL CHECK (length(root) = 32),
    note       bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
