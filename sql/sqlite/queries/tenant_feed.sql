-- name: TenantFeedRead :many
-- A tenant's events after a position, of the stream types and the types of
-- two JSON arrays ('[]' for any).
SELECT position, event_id, stream_id, stream_type, seq, tenant_id, type,
    payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash
FROM events
WHERE tenant_id = @tenant_id AND position > @after_position
  AND (CAST(@stream_types AS TEXT) = '[]' OR stream_type IN (SELECT value FROM json_each(CAST(@stream_types AS TEXT))))
  AND (CAST(@types AS TEXT) = '[]' OR type IN (SELECT value FROM json_each(CAST(@types AS TEXT))))
ORDER BY position
LIMIT @max_events;
