-- name: MerkleTreeSize :one
SELECT size FROM merkle_tree WHERE singleton = 1;

-- name: MerkleHashesRead :many
-- Takes the indexes as one JSON array, so that one statement serves any
-- number; it probes the primary key.
SELECT idx, hash FROM merkle_hashes
WHERE idx IN (SELECT value FROM json_each(CAST(@indexes AS TEXT)));

-- name: MerkleTreeMove :execrows
-- Moves the tree from @old_size to @new_size: 0 rows when it was not of @old_size.
UPDATE merkle_tree SET size = @new_size WHERE singleton = 1 AND size = @old_size;

-- name: MerkleHashInsert :exec
-- Stores one hash at its storage index (a grow runs it once per hash, in
-- its transaction).
INSERT INTO merkle_hashes (idx, hash) VALUES (@idx, @hash);

-- name: MerkleCheckpointInsert :exec
-- The first checkpoint of a size wins; a later one of the same size is dropped.
INSERT INTO merkle_checkpoints (size, root, note, created_at)
VALUES (@size, @root, @note, @created_at)
ON CONFLICT (size) DO NOTHING;

-- name: MerkleCheckpointGet :one
SELECT size, root, note, created_at FROM merkle_checkpoints WHERE size = @size;

-- name: MerkleCheckpointLatest :one
SELECT size, root, note, created_at FROM merkle_checkpoints ORDER BY size DESC LIMIT 1;
