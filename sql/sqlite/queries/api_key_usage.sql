-- name: APIKeyUsageUpsert :exec
-- Takes the uses as one JSON object of key id to unix microseconds. WHERE
-- true lets SQLite parse the upsert of a SELECT; a row is rewritten only
-- when its time moves forward.
INSERT INTO api_key_usage (key_id, last_used_at)
SELECT key, value FROM json_each(CAST(@uses AS TEXT)) WHERE true
ON CONFLICT (key_id) DO UPDATE SET last_used_at = excluded.last_used_at
WHERE excluded.last_used_at > api_key_usage.last_used_at;

-- name: APIKeyUsageGet :many
-- Takes the ids as one JSON array.
SELECT key_id, last_used_at FROM api_key_usage
WHERE key_id IN (SELECT value FROM json_each(CAST(@key_ids AS TEXT)));
