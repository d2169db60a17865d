-- name: APIKeyUsageUpsert :exec
-- Records the last use of each key of the arrays (of one length, each key
-- once), keeping the later of the stored and the given time. A row whose
-- stored time is not earlier is left alone, not rewritten.
INSERT INTO api_key_usage (key_id, last_used_at)
SELECT unnest(@key_ids::text[]), unnest(@used_ats::timestamptz[])
ON CONFLICT (key_id) DO UPDATE SET last_used_at = excluded.last_used_at
WHERE api_key_usage.last_used_at < excluded.last_used_at;

-- name: APIKeyUsageGet :many
SELECT key_id, last_used_at
FROM api_key_usage
WHERE key_id = ANY (@key_ids::text[]);
