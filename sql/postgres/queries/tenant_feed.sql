-- name: TenantFeedInsert :exec
-- One row per event of the arrays (all of one length); a row stored
-- already (a batch applied again) is left alone.
INSERT INTO tenant_feed (tenant_id, position, stream_id, seq, stream_type, type)
SELECT unnest(@tenant_ids::text[]), unnest(@positions::bigint[]), unnest(@stream_ids::text[]),
       unnest(@seqs::bigint[]), unnest(@stream_types::text[]), unnest(@types::text[])
ON CONFLICT (tenant_id, position) DO NOTHING;

-- name: TenantFeedRead :many
-- A tenant's events after a position, of the stream types and the types
-- listed (none for any).
SELECT sqlc.embed(e), f.position
FROM tenant_feed f
JOIN events e ON e.stream_id = f.stream_id AND e.seq = f.seq
WHERE f.tenant_id = @tenant_id AND f.position > @after_position
  AND (cardinality(@stream_types::text[]) = 0 OR f.stream_type = ANY (@stream_types::text[]))
  AND (cardinality(@types::text[]) = 0 OR f.type = ANY (@types::text[]))
ORDER BY f.position
LIMIT @max_events;

-- name: TenantFeedDeleteAll :exec
DELETE FROM tenant_feed;
