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

-- name: LeasePutWithin :batchone
-- Takes the lease if the tenant holds fewer than @max_leases leases and
-- the task has none: 'ok', 'taken' or 'full' (see lease_put_within in
-- migration 0025, first in 0006). The tenant's advisory lock is held until the
-- transaction commits; a batch of them runs in one transaction, which
-- takes each tenant's lock once and sees its own earlier leases.
SELECT lease_put_within(@lock_class::integer, @task_id::text, @tenant_id::text, @worker_id::text,
    @attempt::integer, @expires_at::timestamptz, @max_leases::bigint)::text AS outcome;

-- name: LeaseDropAfter :batchexec
-- Drops the lease of @attempt of @task_id if the event @event_id is
-- stored: sent after an attempt's end, in the same transaction, it drops
-- the lease only when the end went in.
DELETE FROM task_leases
WHERE task_id = @task_id AND attempt = @attempt
  AND EXISTS (SELECT 1 FROM events WHERE event_id = @event_id);
