-- TenantDailyUsageReserve is hand-written in eventstore/sqlite/queries.go:
-- sqlc's SQLite engine does not bind a parameter inside an upsert's
-- DO UPDATE ... WHERE clause (its limit), and would leave it unbound.

-- name: TenantDailyUsageRelease :exec
-- Counts one task start fewer, never below 0.
UPDATE tenant_daily_usage SET tasks = tasks - 1
WHERE tenant_id = @tenant_id AND day = @day AND tasks > 0;

-- name: TenantDailyUsageGet :one
SELECT tasks FROM tenant_daily_usage WHERE tenant_id = @tenant_id AND day = @day;
