-- name: TaskViewsTenantsWithEnded :many
-- A page of the tenants with tasks to prune that ended before
-- @ended_before (unix microseconds), in byte order of id, after
-- @after_tenant_id (empty for the first page). A loose index scan of
-- task_views_prunable_idx: the recursive part steps from tenant to tenant,
-- one probe each, and each tenant costs one more probe for its earliest
-- end; it never reads a tenant's other tasks. Every subquery repeats the
-- index's predicate, without which SQLite does not use it.
WITH RECURSIVE tenants(tenant_id) AS (
    SELECT (SELECT v.tenant_id FROM task_views v
            WHERE v.ended_at IS NOT NULL AND v.pruned_at IS NULL AND v.tenant_id > @after_tenant_id
            ORDER BY v.tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT v.tenant_id FROM task_views v
            WHERE v.ended_at IS NOT NULL AND v.pruned_at IS NULL AND v.tenant_id > t.tenant_id
            ORDER BY v.tenant_id LIMIT 1)
    FROM tenants t WHERE t.tenant_id IS NOT NULL
)
SELECT t.tenant_id FROM tenants t
WHERE t.tenant_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM task_views v
              WHERE v.ended_at IS NOT NULL AND v.pruned_at IS NULL AND v.tenant_id = t.tenant_id
                AND v.ended_at < @ended_before)
LIMIT @max_tenants;

-- name: TaskViewsEndedOfTenant :many
-- The tenant's tasks to prune that ended before @ended_before (unix
-- microseconds), the earliest ended first: a range of
-- task_views_prunable_idx, in its order.
SELECT task_id
FROM task_views
WHERE ended_at IS NOT NULL AND pruned_at IS NULL
  AND tenant_id = @tenant_id AND ended_at < @ended_before
ORDER BY ended_at, task_id
LIMIT @max_tasks;

-- name: TaskViewsMarkPruned :exec
-- Marks a task's row pruned at @pruned_at (unix microseconds), unless it
-- is marked already (the first time stays).
UPDATE task_views SET pruned_at = @pruned_at
WHERE task_id = @task_id AND pruned_at IS NULL;

-- name: StreamLastEvent :one
-- A stream's last event's seq, stream type and event type.
SELECT seq, stream_type, type
FROM events
WHERE stream_id = @stream_id
ORDER BY seq DESC
LIMIT 1;

-- name: EventsPrune :execrows
-- Prunes the payloads and salts of a task stream's events up to @last_seq
-- that still have them (the one change the events_prune_only trigger
-- allows); the digests and hashes stay.
UPDATE events SET payload = NULL, payload_salt = NULL
WHERE stream_id = @stream_id AND seq <= @last_seq AND stream_type = 'task'
  AND (payload IS NOT NULL OR payload_salt IS NOT NULL);
