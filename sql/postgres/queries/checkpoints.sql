-- name: CheckpointGet :one
SELECT next_position FROM feed_checkpoints WHERE name = @name;

-- name: CheckpointSet :exec
INSERT INTO feed_checkpoints (name, next_position) VALUES (@name, @next_position)
ON CONFLICT (name) DO UPDATE SET next_position = excluded.next_position;
