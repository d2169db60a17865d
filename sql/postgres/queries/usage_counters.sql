-- name: UsageCountersAdd :exec
-- Adds a batch's counts to a tenant's day.
INSERT INTO usage_counters (tenant_id, day, task_run_ms, tasks_started, streams_opened, bytes_streamed, mcp_calls, output_bytes)
VALUES (@tenant_id, @day, @task_run_ms, @tasks_started, @streams_opened, @bytes_streamed, @mcp_calls, @output_bytes)
ON CONFLICT (tenant_id, day) DO UPDATE
SET task_run_ms = usage_counters.task_run_ms + excluded.task_run_ms,
    tasks_started = usage_counters.tasks_started + excluded.tasks_started,
    streams_opened = usage_counters.streams_opened + excluded.streams_opened,
    bytes_streamed = usage_counters.bytes_streamed + excluded.bytes_streamed,
    mcp_calls = usage_counters.mcp_calls + excluded.mcp_calls,
    output_bytes = usage_counters.output_bytes + excluded.output_bytes;

-- name: UsageCountersRange :many
-- A tenant's days from first to last, both included, in day order.
SELECT tenant_id, day, task_run_ms, tasks_started, streams_opened, bytes_streamed, mcp_calls, output_bytes
FROM usage_counters
WHERE tenant_id = @tenant_id AND day >= @first_day AND day <= @last_day
ORDER BY day;

-- name: UsageCountersDeleteAll :exec
DELETE FROM usage_counters;

-- name: UsageOpenRunsGet :many
SELECT task_id, tenant_id, started_at FROM usage_open_runs WHERE task_id = ANY(@task_ids::text[]);

-- name: UsageOpenRunPut :exec
INSERT INTO usage_open_runs (task_id, tenant_id, started_at) VALUES (@task_id, @tenant_id, @started_at)
ON CONFLICT (task_id) DO UPDATE SET tenant_id = excluded.tenant_id, started_at = excluded.started_at;

-- name: UsageOpenRunDelete :exec
DELETE FROM usage_open_runs WHERE task_id = @task_id;

-- name: UsageOpenRunsDeleteAll :exec
DELETE FROM usage_open_runs;

-- name: UsageCountersOfDay :many
-- Every tenant's row of one day, in tenant order, after a tenant id (""
-- for the first page), at most max_rows of them.
SELECT tenant_id, day, task_run_ms, tasks_started, streams_opened, bytes_streamed, mcp_calls, output_bytes
FROM usage_counters
WHERE day = @day AND tenant_id > @after_tenant_id
ORDER BY tenant_id
LIMIT @max_rows;
