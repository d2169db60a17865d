-- name: MerkleTreeSize :one
SELECT size FROM merkle_tree WHERE singleton = 1;

-- name: MerkleBlocksRead :many
-- Takes the block numbers as one JSON array, so that one statement serves
-- any number; it probes the primary key.
SELECT block, hashes FROM merkle_blocks
WHERE block IN (SELECT value FROM json_each(CAST(@blocks AS TEXT)));

-- name: MerkleTreeMove :execrows
-- Moves the tree from @old_size to @new_size: 0 rows when it was not of @old_size.
UPDATE merkle_tree SET size = @new_size WHERE singleton = 1 AND size = @old_size;

-- name: MerkleBlockExtend :execrows
-- Appends hashes to the end of a block that holds exactly @length bytes
-- (through hex: SQLite's || makes text of blobs).
UPDATE merkle_blocks SET hashes = unhex(hex(hashes) || hex(CAST(@hashes AS BLOB)))
WHERE block = @block AND length(hashes) = CAST(@length AS INTEGER);

-- name: MerkleBlockInsert :exec
INSERT INTO merkle_blocks (block, hashes) VALUES (@block, @hashes);

-- name: MerkleCheckpointInsert :exec
-- The first checkpoint of a size wins; a later one of the same size is dropped.
INSERT INTO merkle_checkpoints (size, root, note, created_at)
VALUES (@size, @root, @note, @created_at)
ON CONFLICT (size) DO NOTHING;

-- name: MerkleCheckpointGet :one
SELECT size, root, note, created_at FROM merkle_checkpoints WHERE size = @size;

-- name: MerkleCheckpointLatest :one
SELECT size, root, note, created_at FROM merkle_checkpoints ORDER BY size DESC LIMIT 1;

-- name: MerkleCosignatureInsert :exec
-- A witness's first cosignature of a size wins; a later one is dropped.
INSERT INTO merkle_cosignatures (size, witness, line, created_at)
VALUES (@size, @witness, @line, @created_at)
ON CONFLICT (size, witness) DO NOTHING;

-- name: MerkleCosignaturesOf :many
SELECT line FROM merkle_cosignatures WHERE size = @size ORDER BY witness;

-- name: MerkleCosignedSize :one
SELECT CAST(COALESCE(MAX(size), -1) AS INTEGER) AS size FROM merkle_cosignatures WHERE witness = @witness;
