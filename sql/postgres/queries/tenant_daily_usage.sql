-- name: TenantDailyUsageReserve :batchone
-- Counts one more task start on the tenant's day unless its count has
-- reached @max_tasks (at least 1), and returns the new count. When it has, the
-- row is left alone and no row comes back. Atomic on its own: concurrent
-- reservations of one day queue on its row, and each sees the count the
-- previous one left. A batch query: the reservations that queue while one
-- commits go together, one statement each, in one transaction.
INSERT INTO tenant_daily_usage (tenant_id, day, tasks)
VALUES (@tenant_id, @day, 1)
ON CONFLICT (tenant_id, day) DO UPDATE SET tasks = tenant_daily_usage.tasks + 1
WHERE tenant_daily_usage.tasks < @max_tasks
RETURNING tasks;

-- name: TenantDailyUsageRelease :exec
-- Counts one task start fewer on the tenant's day, never below 0.
UPDATE tenant_daily_usage SET tasks = tasks - 1
WHERE tenant_id = @tenant_id AND day = @day AND tasks > 0;

-- name: TenantDailyUsageGet :one
SELECT tasks
FROM tenant_daily_usage
WHERE tenant_id = @tenant_id AND day = @day;
