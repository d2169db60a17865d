-- name: LeasePut :exec
INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
VALUES (@task_id, @tenant_id, @worker_id, @attempt, @expires_at)
ON CONFLICT (task_id) DO UPDATE
SET tenant_id = excluded.tenant_id, worker_id = excluded.worker_id,
    attempt = excluded.attempt, expires_at = excluded.expires_at;

-- name: LeaseRenew :execrows
UPDATE task_leases SET expires_at = @expires_at
WHERE task_id = @task_id AND worker_id = @worker_id AND attempt = @attempt;

-- name: LeaseDrop :exec
DELETE FROM task_leases WHERE task_id = @task_id AND attempt = @attempt;

-- name: LeasesExpired :many
SELECT task_id, tenant_id, worker_id, attempt, expires_at
FROM task_leases
WHERE expires_at < @now
ORDER BY expires_at
LIMIT @max_leases;

-- name: LeaseLockTenant :exec
-- Takes the transaction's advisory lock of the tenant's leases, which
-- serializes LeasePutWithin per tenant across processes. The two-int form,
-- with its own class @lock_class, never meets the single-bigint locks of
-- the elections and migrations (Postgres keeps the two forms apart); two
-- tenants whose names hash alike only wait for each other. It must run as
-- its own statement, before LeasePutWithin: a statement's snapshot is
-- taken before its locks, so the count must come after this one returns.
SELECT pg_advisory_xact_lock(@lock_class::integer, hashtext(@tenant_id::text));

-- name: LeasePutWithin :execrows
-- Inserts the lease only if the tenant holds fewer than @max_leases leases
-- (expired ones count) and the task has none. Affects no row otherwise.
-- Exact only under LeaseLockTenant, taken earlier in the transaction.
INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
SELECT @task_id::text, @tenant_id::text, @worker_id::text, @attempt::integer, @expires_at::timestamptz
WHERE (SELECT count(*) FROM task_leases WHERE tenant_id = @tenant_id::text) < @max_leases::bigint
ON CONFLICT (task_id) DO NOTHING;

-- name: LeaseExists :one
SELECT EXISTS (SELECT 1 FROM task_leases WHERE task_id = @task_id);
