-- name: TenantDailyUsageRelease :exec
-- Counts one task start fewer, never below 0.
UPDATE tenant_daily_usage SET tasks = tasks - 1
WHERE tenant_id = @tenant_id AND day = @day AND tasks > 0;

-- name: TenantDailyUsageGet :one
SELECT tasks FROM tenant_daily_usage WHERE tenant_id = @tenant_id AND day = @day;

-- name: TenantDailyUsageIncrement :one
-- Counts one more task start and returns the new count. SQLite has one
-- writer: the store reads the count (TenantDailyUsageGet) and checks the
-- limit in the same write transaction, in place of Postgres's
-- TenantDailyUsageReserve, whose limit sits in the upsert's DO UPDATE ...
-- WHERE clause, where sqlc's SQLite engine does not bind a parameter.
INSERT INTO tenant_daily_usage (tenant_id, day, tasks) VALUES (@tenant_id, @day, 1)
ON CONFLICT (tenant_id, day) DO UPDATE SET tasks = tenant_daily_usage.tasks + 1
RETURNING tasks;
