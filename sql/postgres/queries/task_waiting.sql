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
