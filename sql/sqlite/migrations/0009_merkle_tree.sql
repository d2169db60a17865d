-- The transparency log (docs/integrity.md section 8): the Merkle tree over
-- the global feed, one row per stored hash at its index in
-- golang.org/x/mod/sumdb/tlog's stored-hash order (about two per leaf), and
-- the signed checkpoints. Rows are inserted, never updated: a stored hash
-- never changes, and a checkpoint's size has one root forever.

CREATE TABLE merkle_hashes (
    idx  INTEGER PRIMARY KEY CHECK (idx >= 0),
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- The number of leaves whose hashes are stored, moved in the same
-- transaction as the hashes it covers.
CREATE TABLE merkle_tree (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    size      INTEGER NOT NULL CHECK (size >= 0)
) STRICT;

INSERT INTO merkle_tree (singleton, size) VALUES (1, 0);

CREATE TABLE merkle_checkpoints (
    size       INTEGER PRIMARY KEY CHECK (size >= 0),
    root       BLOB    NOT NULL CHECK (length(root) = 32),
    note       BLOB    NOT NULL,
    -- Unix microseconds, UTC.
    created_at INTEGER NOT NULL
) STRICT;

CREATE TRIGGER merkle_hashes_no_update BEFORE UPDATE ON merkle_hashes
BEGIN
    SELECT RAISE(ABORT, 'stored Merkle hashes never change');
END;

CREATE TRIGGER merkle_checkpoints_no_update BEFORE UPDATE ON merkle_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'a checkpoint''s size has one root forever');
END;
