-- name: TaskWaitingMark :exec
-- Records that a task waits; a task already marked keeps its row (its
-- first since).
INSERT INTO task_waiting (task_id, tenant_id, since) VALUES (@task_id, @tenant_id, @since)
ON CONFLICT (task_id) DO NOTHING;

-- name: TaskWaitingUnmark :exec
DELETE FROM task_waiting WHERE task_id = @task_id;

-- name: TaskWaitingList :many
-- The oldest waiting tasks, through task_waiting_since_idx.
SELECT task_id, tenant_id, since FROM task_waiting
ORDER BY since, task_id LIMIT @max_rows;

-- name: TaskWaitingListByTenant :many
-- The oldest waiting tasks of one tenant, through
-- task_waiting_tenant_since_idx.
SELECT task_id, tenant_id, since FROM task_waiting
WHERE tenant_id = @tenant_id ORDER BY since, task_id LIMIT @max_rows;

-- name: TaskViewsStaleQueued :many
-- The queued tasks of every tenant queued before a cutoff (unix
-- microseconds) that hold no lease and have no task_waiting row, oldest
-- queued first: a range of the partial index task_views_queued_idx in its
-- order, with a primary-key probe of task_leases and of task_waiting per
-- row. The literal 'queued' repeats the index's predicate, without which
-- SQLite does not use it.
SELECT v.task_id, v.tenant_id, v.queued_at FROM task_views v
WHERE v.state = 'queued' AND v.queued_at < @queued_before
    AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = v.task_id)
    AND NOT EXISTS (SELECT 1 FROM task_waiting w WHERE w.task_id = v.task_id)
ORDER BY v.queued_at, v.task_id LIMIT @max_rows;
