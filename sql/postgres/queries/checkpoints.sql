-- name: CheckpointSave :exec
-- Records a feed consumer's position (the relay's, a projection's reset).
INSERT INTO projection_checkpoints (name, next_position) VALUES (@name, @next_position)
ON CONFLICT (name) DO UPDATE SET next_position = excluded.next_position;
