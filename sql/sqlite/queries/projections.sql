-- name: ProjectionCheckpointGet :one
SELECT next_position FROM projection_checkpoints WHERE name = @name;

-- name: ProjectionCheckpointReset :exec
INSERT INTO projection_checkpoints (name, next_position) VALUES (@name, 0)
ON CONFLICT (name) DO UPDATE SET next_position = 0;

-- name: CheckpointSave :exec
-- Records a feed consumer's position.
INSERT INTO projection_checkpoints (name, next_position) VALUES (@name, @next_position)
ON CONFLICT (name) DO UPDATE SET next_position = excluded.next_position;

-- name: TaskViewsGet :many
-- Every column, in the table's order, pruned_at (the retention job's
-- mark) too, so that the task view queries share the TaskView model. The
-- list of ids is spelled out (sqlc.slice): a caller keeps it below
-- SQLite's limit on bound parameters.
SELECT task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, pruned_at, queued_at
FROM task_views
WHERE task_id IN (sqlc.slice(task_ids));

-- name: TaskViewsUpsert :exec
-- pruned_at is never written: a new row has none, and an updated row
-- keeps the retention job's mark. Times are unix microseconds; a started,
-- ended or queued time is NULL when there is none.
INSERT INTO task_views (task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, queued_at)
VALUES (@task_id, @tenant_id, @name, @adapter, @state, @attempt, @created_at, @started_at, @ended_at, @last_seq, @last_position, @queued_at)
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
-- after_task_id) and created after created_after, newest first: a range of
-- task_views_tenant_created_idx in its order. The first page passes a time
-- after every task, a list without a lower bound a time before every task.
SELECT task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, pruned_at, queued_at
FROM task_views
WHERE tenant_id = @tenant_id
  AND (created_at, task_id) < (CAST(@after_created_at AS INTEGER), CAST(@after_task_id AS TEXT))
  AND created_at > CAST(@created_after AS INTEGER)
ORDER BY created_at DESC, task_id DESC
LIMIT @max_rows;

-- name: TaskViewsListByState :many
-- TaskViewsList of the tasks in one state: a range of
-- task_views_tenant_state_created_idx in its order. The index is named:
-- with both bounds on created_at, the planner (without statistics) would
-- take task_views_tenant_created_idx and read every state's tasks.
SELECT task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, pruned_at, queued_at
FROM task_views INDEXED BY task_views_tenant_state_created_idx
WHERE tenant_id = @tenant_id AND state = @state
  AND (created_at, task_id) < (CAST(@after_created_at AS INTEGER), CAST(@after_task_id AS TEXT))
  AND created_at > CAST(@created_after AS INTEGER)
ORDER BY created_at DESC, task_id DESC
LIMIT @max_rows;

-- name: TaskViewsCountByState :many
-- The tasks of every tenant in each state: a scan of the table, for the
-- operators' metrics, which read it at most once every few seconds.
SELECT state, count(*) AS tasks FROM task_views GROUP BY state;

-- name: TaskViewsOldestQueued :many
-- When the task queued the longest ago was queued (unix microseconds):
-- the first entry of task_views_queued_idx (the literal 'queued' repeats
-- its predicate); no row when none is queued.
SELECT queued_at FROM task_views
WHERE state = 'queued'
ORDER BY queued_at, task_id
LIMIT 1;

-- name: ProjectionCheckpointList :many
-- Every feed consumer's next position (the read models, webhook dispatch),
-- by name.
SELECT name, next_position FROM projection_checkpoints ORDER BY name;
