-- name: TaskWaitingMark :exec
-- Records that a task waits; a task already marked keeps its row (its
-- first since).
INSERT INTO task_waiting (task_id, tenant_id, since)
VALUES (@task_id, @tenant_id, @since)
ON CONFLICT (task_id) DO NOTHING;

-- name: TaskWaitingUnmark :exec
DELETE FROM task_waiting WHERE task_id = @task_id;

-- name: TaskWaitingList :many
-- The oldest waiting tasks of every tenant.
SELECT task_id, tenant_id, since
FROM task_waiting
ORDER BY since, task_id COLLATE "C"
LIMIT @max_tasks;

-- name: TaskWaitingListByTenant :many
-- The oldest waiting tasks of one tenant.
SELECT task_id, tenant_id, since
FROM task_waiting
WHERE tenant_id = @tenant_id
ORDER BY since, task_id COLLATE "C"
LIMIT @max_tasks;

-- name: TaskViewsStaleQueued :many
-- The queued tasks of every tenant queued before @queued_before that hold
-- no lease (expired ones included) and have no task_waiting row, oldest
-- queued first: a range of task_views_queued_idx, in its order, with a
-- probe of each table's primary key per row. The literal 'queued' and the
-- collation repeat the index's predicate and order.
SELECT v.task_id, v.tenant_id, v.queued_at::timestamptz AS queued_at
FROM task_views v
WHERE v.state = 'queued'
  AND v.queued_at < @queued_before::timestamptz
  AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = v.task_id)
  AND NOT EXISTS (SELECT 1 FROM task_waiting w WHERE w.task_id = v.task_id)
ORDER BY v.queued_at, v.task_id COLLATE "C"
LIMIT @max_tasks::integer;
