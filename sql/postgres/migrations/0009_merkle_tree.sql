-- The transparency log (docs/integrity.md section 8): the Merkle tree over
-- the global feed and its signed checkpoints. The tree's hashes are kept in
-- golang.org/x/mod/sumdb/tlog's stored-hash order (about two per leaf), in
-- blocks of 256 consecutive ones: block b holds the hashes of indexes
-- 256b … 256b+255, concatenated. A full block never changes; the last one
-- only grows at its end. A stored hash never changes, and a checkpoint's
-- size has one root forever.

CREATE TABLE merkle_blocks (
    block  bigint PRIMARY KEY CHECK (block >= 0),
    hashes bytea  NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0)
);

-- Hashes are random: compressing them only costs time.
ALTER TABLE merkle_blocks ALTER COLUMN hashes SET STORAGE EXTERNAL;

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
