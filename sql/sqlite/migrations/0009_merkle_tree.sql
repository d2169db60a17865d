-- The transparency log (docs/integrity.md section 8): the Merkle tree over
-- the global feed and its signed checkpoints. The tree's hashes are kept in
-- golang.org/x/mod/sumdb/tlog's stored-hash order (about two per leaf), in
-- blocks of 256 consecutive ones: block b holds the hashes of indexes
-- 256b … 256b+255, concatenated. A full block never changes; the last one
-- only grows at its end. A stored hash never changes, and a checkpoint's
-- size has one root forever.

CREATE TABLE merkle_blocks (
    block  INTEGER PRIMARY KEY CHECK (block >= 0),
    hashes BLOB    NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0)
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

CREATE TRIGGER merkle_blocks_append_only BEFORE UPDATE ON merkle_blocks
WHEN NEW.block IS NOT OLD.block OR substr(NEW.hashes, 1, length(OLD.hashes)) IS NOT OLD.hashes
BEGIN
    SELECT RAISE(ABORT, 'stored Merkle hashes never change: a block only grows at its end');
END;

CREATE TRIGGER merkle_checkpoints_no_update BEFORE UPDATE ON merkle_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'a checkpoint''s size has one root forever');
END;
