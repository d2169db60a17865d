-- name: StreamsList :many
-- A page of a tenant's streams of one type, in byte order of stream_id,
-- after after_stream_id (empty for the first page). The literal seq = 1
-- and stream_type <> 'task' repeat the predicate of the partial index
-- events_tenant_type_stream_idx: SQLite uses the index only then.
SELECT stream_id
FROM events
WHERE tenant_id = @tenant_id AND stream_type = @stream_type
  AND seq = 1 AND stream_type <> 'task'
  AND stream_id > @after_stream_id
ORDER BY stream_id
LIMIT @max_streams;
