-- name: TenantDailyUsageReserve :one
-- Counts @starts (at least 1) more task starts on the tenant's day unless
-- the count would pass @max_tasks (at least 1), and returns the new count.
-- When it would, the row is left alone and no row comes back: all the
-- starts or none. Atomic on its own: concurrent reservations of one day
-- queue on its row, and each sees the count the previous one left. The
-- sum is taken in bigint, so that no count overflows the column's integer.
INSERT INTO tenant_daily_usage (tenant_id, day, tasks)
SELECT @tenant_id, @day, CAST(@starts AS integer)
WHERE CAST(@starts AS bigint) <= CAST(@max_tasks AS bigint)
ON CONFLICT (tenant_id, day) DO UPDATE SET tasks = tenant_daily_usage.tasks + excluded.tasks
WHERE CAST(tenant_daily_usage.tasks AS bigint) + excluded.tasks <= CAST(@max_tasks AS bigint)
RETURNING tasks;

-- name: TenantDailyUsageRelease :exec
-- Counts @starts task starts fewer on the tenant's day, never below 0.
UPDATE tenant_daily_usage SET tasks = GREATEST(tasks - CAST(@starts AS integer), 0)
WHERE tenant_id = @tenant_id AND day = @day AND tasks > 0;

-- name: TenantDailyUsageGet :one
SELECT tasks
FROM tenant_daily_usage
WHERE tenant_id = @tenant_id AND day = @day;
