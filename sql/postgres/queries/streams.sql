-- name: StreamsList :many
-- A page of a tenant's streams of one type, in byte order of stream_id,
-- after after_stream_id (empty for the first page). The literal seq = 1
-- and stream_type <> 'task' repeat the predicate of the partial index
-- events_tenant_type_stream_idx, and stream_id sorts with the index's
-- collation: without either the index is not used.
SELECT stream_id
FROM events
WHERE tenant_id = @tenant_id AND stream_type = @stream_type
  AND seq = 1 AND stream_type <> 'task'
  AND stream_id COLLATE "C" > @after_stream_id::text
ORDER BY stream_id COLLATE "C"
LIMIT @max_streams;
