-- name: LeasePut :exec
INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
VALUES (@task_id, @tenant_id, @worker_id, @attempt, @expires_at)
ON CONFLICT (task_id) DO UPDATE SET tenant_id = excluded.tenant_id, worker_id = excluded.worker_id,
    attempt = excluded.attempt, expires_at = excluded.expires_at;

-- name: LeaseRenew :execrows
UPDATE task_leases SET expires_at = @expires_at
WHERE task_id = @task_id AND worker_id = @worker_id AND attempt = @attempt;

-- name: LeaseDrop :exec
DELETE FROM task_leases WHERE task_id = @task_id AND attempt = @attempt;

-- name: LeasesExpired :many
SELECT task_id, tenant_id, worker_id, attempt, expires_at
FROM task_leases WHERE expires_at < @now ORDER BY expires_at LIMIT @max_rows;

-- name: LeasePutWithin :execrows
-- Inserts a lease only if its tenant holds fewer leases than the limit,
-- expired ones counted, and the task has none; otherwise it affects no
-- row. Exact only inside a write transaction.
INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
SELECT @task_id, @tenant_id, @worker_id, @attempt, @expires_at
WHERE (SELECT count(*) FROM task_leases t WHERE t.tenant_id = @tenant_id) < CAST(@max_leases AS INTEGER)
ON CONFLICT (task_id) DO NOTHING;

-- name: LeaseExists :one
SELECT EXISTS (SELECT 1 FROM task_leases WHERE task_id = @task_id);
