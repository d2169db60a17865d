-- name: TenantFeedRead :many
-- A tenant's events after a position, of a stream type (empty for any) and of
-- the types of a JSON array ('[]' for any).
SELECT position, event_id, stream_id, stream_type, seq, tenant_id, type,
    payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash
FROM events
WHERE tenant_id = @tenant_id AND position > @after_position
  AND (CAST(@stream_type AS TEXT) = '' OR stream_type = @stream_type)
  AND (CAST(@types AS TEXT) = '[]' OR type IN (SELECT value FROM json_each(CAST(@types AS TEXT))))
ORDER BY position
LIMIT @max_events;
