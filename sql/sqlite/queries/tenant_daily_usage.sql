-- name: TenantDailyUsageRelease :exec
-- Counts one task start fewer, never below 0.
UPDATE tenant_daily_usage SET tasks = tasks - 1
WHERE tenant_id = @tenant_id AND day = @day AND tasks > 0;

-- name: TenantDailyUsageGet :one
SELECT tasks FROM tenant_daily_usage WHERE tenant_id = @tenant_id AND day = @day;

-- TenantDailyUsageReserve is hand-written (queryReserveTaskStart in
-- eventstore/sqlite/task_starts.go): sqlc v1.31.1's SQLite engine does not
-- see a parameter inside an upsert's DO UPDATE ... WHERE clause (the
-- limit), so its generated method would bind only tenant_id and day.
