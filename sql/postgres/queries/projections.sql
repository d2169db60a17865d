-- name: ProjectionCheckpointEnsure :exec
INSERT INTO projection_checkpoints (name, next_position) VALUES (@name, 0)
ON CONFLICT (name) DO NOTHING;

-- name: ProjectionCheckpointLock :one
SELECT next_position FROM projection_checkpoints WHERE name = @name FOR UPDATE;

-- name: ProjectionCheckpointGet :one
SELECT next_position FROM projection_checkpoints WHERE name = @name;

-- name: ProjectionCheckpointSet :exec
UPDATE projection_checkpoints SET next_position = @next_position WHERE name = @name;

-- name: ProjectionCheckpointReset :exec
INSERT INTO projection_checkpoints (name, next_position) VALUES (@name, 0)
ON CONFLICT (name) DO UPDATE SET next_position = 0;

-- name: TaskViewsGet :many
-- Every column, in the table's order, pruned_at (the retention job's
-- mark) too, so that the task view queries share the TaskView model.
SELECT task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, pruned_at, queued_at
FROM task_views
WHERE task_id = ANY(@task_ids::text[]);

-- name: TaskViewsUpsert :exec
-- One row per task of the arrays (all of one length); a started, ended or
-- queued time is NULL where its has_ flag is false. pruned_at is never
-- written: a new row has none, and an updated row keeps the retention
-- job's mark.
INSERT INTO task_views (task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, queued_at)
SELECT u.task_id, u.tenant_id, u.name, u.adapter, u.state, u.attempt, u.created_at,
       CASE WHEN u.has_started THEN u.started_at END,
       CASE WHEN u.has_ended THEN u.ended_at END,
       u.last_seq, u.last_position,
       CASE WHEN u.has_queued THEN u.queued_at END
FROM (SELECT unnest(@task_ids::text[]) AS task_id, unnest(@tenant_ids::text[]) AS tenant_id,
             unnest(@names::text[]) AS name, unnest(@adapters::text[]) AS adapter,
             unnest(@states::text[]) AS state, unnest(@attempts::integer[]) AS attempt,
             unnest(@created_ats::timestamptz[]) AS created_at,
             unnest(@has_started::boolean[]) AS has_started, unnest(@started_ats::timestamptz[]) AS started_at,
             unnest(@has_ended::boolean[]) AS has_ended, unnest(@ended_ats::timestamptz[]) AS ended_at,
             unnest(@last_seqs::bigint[]) AS last_seq, unnest(@last_positions::bigint[]) AS last_position,
             unnest(@has_queued::boolean[]) AS has_queued, unnest(@queued_ats::timestamptz[]) AS queued_at) AS u
ON CONFLICT (task_id) DO UPDATE
SET tenant_id = excluded.tenant_id, name = excluded.name, adapter = excluded.adapter,
    state = excluded.state, attempt = excluded.attempt, created_at = excluded.created_at,
    started_at = excluded.started_at, ended_at = excluded.ended_at,
    last_seq = excluded.last_seq, last_position = excluded.last_position,
    queued_at = excluded.queued_at;

-- name: TaskViewsDeleteAll :exec
DELETE FROM task_views;

-- name: TaskViewsList :many
-- A page of a tenant's tasks older than the keyset (after_created_at,
-- after_task_id) and created after created_after, newest first; the first
-- page passes a time after every task, a list without a lower bound a time
-- before every task.
SELECT task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, pruned_at, queued_at
FROM task_views
WHERE tenant_id = @tenant_id
  AND (created_at, task_id) < (@after_created_at::timestamptz, @after_task_id::text)
  AND created_at > @created_after::timestamptz
ORDER BY created_at DESC, task_id DESC
LIMIT @max_rows;

-- name: TaskViewsListByState :many
-- TaskViewsList of the tasks in one state.
SELECT task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, pruned_at, queued_at
FROM task_views
WHERE tenant_id = @tenant_id AND state = @state
  AND (created_at, task_id) < (@after_created_at::timestamptz, @after_task_id::text)
  AND created_at > @created_after::timestamptz
ORDER BY created_at DESC, task_id DESC
LIMIT @max_rows;

-- name: TaskViewsCountByState :many
-- The tasks of every tenant in each state, for the operators' metrics:
-- the counts that task_views' triggers keep (migration 0026), not a scan.
SELECT state, tasks FROM task_view_counts WHERE tasks <> 0;

-- name: TaskViewsOldestQueued :many
-- When the task queued the longest ago was queued: the first entry of
-- task_views_queued_idx (the literal 'queued' repeats its predicate); no
-- row when none is queued.
SELECT queued_at FROM task_views
WHERE state = 'queued'
ORDER BY queued_at, task_id COLLATE "C"
LIMIT 1;

-- name: ProjectionCheckpointList :many
-- Every feed consumer's next position (read models, the relay, webhook
-- dispatch …), by name.
SELECT name, next_position FROM projection_checkpoints ORDER BY name;
