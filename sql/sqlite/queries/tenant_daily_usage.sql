-- name: TenantDailyUsageRelease :exec
-- Counts @starts task starts fewer, never below 0.
UPDATE tenant_daily_usage SET tasks = MAX(tasks - CAST(@starts AS INTEGER), 0)
WHERE tenant_id = @tenant_id AND day = @day AND tasks > 0;

-- name: TenantDailyUsageGet :one
SELECT tasks FROM tenant_daily_usage WHERE tenant_id = @tenant_id AND day = @day;

-- name: TenantDailyUsageReserve :one
-- Counts @starts (at least 1) more task starts of a tenant's day unless
-- the count would pass the limit, and returns the new count; when it would,
-- it changes nothing and returns no row: all the starts or none. The limit
-- is checked in the SELECT's WHERE (as LeasePutWithin does), where sqlc's
-- SQLite engine binds it; in the upsert's DO UPDATE ... WHERE, as
-- Postgres's query has it, it does not. Exact inside a write transaction:
-- SQLite has one writer.
INSERT INTO tenant_daily_usage (tenant_id, day, tasks)
SELECT @tenant_id, @day, CAST(@starts AS INTEGER)
WHERE COALESCE((SELECT u.tasks FROM tenant_daily_usage u WHERE u.tenant_id = @tenant_id AND u.day = @day), 0) + CAST(@starts AS INTEGER) <= CAST(@max_tasks AS INTEGER)
ON CONFLICT (tenant_id, day) DO UPDATE SET tasks = tenant_daily_usage.tasks + excluded.tasks
RETURNING tasks;
