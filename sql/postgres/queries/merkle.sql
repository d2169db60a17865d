-- name: MerkleTreeSize :one
SELECT size FROM merkle_tree;

-- name: MerkleHashesRead :many
SELECT idx, hash FROM merkle_hashes WHERE idx = ANY (@indexes::bigint[]);

-- name: MerkleTreeGrow :execrows
-- Moves the tree from @old_size to @new_size and stores the hashes the new
-- leaves add, from storage index @first_index on, in one statement: 0 rows
-- when the tree was not of @old_size (a concurrent grow waits for the row
-- lock, then finds the size moved).
WITH moved AS (
    UPDATE merkle_tree SET size = @new_size::bigint WHERE size = @old_size::bigint RETURNING size
)
INSERT INTO merkle_hashes (idx, hash)
SELECT sqlc.arg(first_index)::bigint + u.ord - 1, u.hash
FROM moved, unnest(@hashes::bytea[]) WITH ORDINALITY AS u(hash, ord);

-- name: MerkleCheckpointInsert :exec
-- The first checkpoint of a size wins; a later one of the same size is dropped.
INSERT INTO merkle_checkpoints (size, root, note, created_at)
VALUES (@size, @root, @note, @created_at)
ON CONFLICT (size) DO NOTHING;

-- name: MerkleCheckpointGet :one
SELECT size, root, note, created_at FROM merkle_checkpoints WHERE size = @size;

-- name: MerkleCheckpointLatest :one
SELECT size, root, note, created_at FROM merkle_checkpoints ORDER BY size DESC LIMIT 1;
