-- name: MerkleTreeSize :one
SELECT size FROM merkle_tree;

-- name: MerkleBlocksRead :many
SELECT block, hashes FROM merkle_blocks WHERE block = ANY (@blocks::bigint[]);

-- name: MerkleTreeMove :execrows
-- Moves the tree from @old_size to @new_size: 0 rows when it was not of
-- @old_size (a concurrent grow waits for the row lock, then finds the size
-- moved).
UPDATE merkle_tree SET size = @new_size::bigint WHERE size = @old_size::bigint;

-- name: MerkleBlockExtend :execrows
-- Appends hashes to the end of a block that holds exactly @length bytes.
UPDATE merkle_blocks SET hashes = hashes || @hashes::bytea
WHERE block = @block::bigint AND length(hashes) = @length::int;

-- name: MerkleBlocksInsert :exec
INSERT INTO merkle_blocks (block, hashes)
SELECT unnest(@blocks::bigint[]), unnest(@hashes::bytea[]);

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
SELECT COALESCE(MAX(size), -1)::bigint AS size FROM merkle_cosignatures WHERE witness = @witness;
