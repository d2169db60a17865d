-- A tenant's plan concurrency: at most N of its tasks running at once,
-- however many workers there are. A worker leases a task before it claims
-- it, and only while the tenant holds fewer than N leases
-- (LeasePutWithin); a task refused for that reason stays queued and is
-- remembered as waiting, to be dispatched again when a slot frees.

-- Counting a tenant's leases, expired ones too.
CREATE INDEX task_leases_tenant_id_idx ON task_leases (tenant_id);

-- The queued tasks that wait for a slot of their tenant. Operational
-- state, not events: outside the hash chain and the feed, not rebuilt by
-- any projection. If lost, it can be rebuilt from the queued tasks. Rows
-- are hints for re-dispatch, never authority: a claim always checks the
-- task's stream and the tenant's limit again. since is when the task was
-- first refused; marking it again keeps it.
CREATE TABLE task_waiting (
    task_id   text        PRIMARY KEY,
    tenant_id text        NOT NULL,
    since     timestamptz NOT NULL
);

-- Oldest first, of every tenant (TaskWaitingList) or of one
-- (TaskWaitingListByTenant). Ties sort task_id in byte order (COLLATE "C")
-- whatever the database's collation, as the SQLite store sorts them.
CREATE INDEX task_waiting_since_idx ON task_waiting (since, task_id COLLATE "C");
CREATE INDEX task_waiting_tenant_since_idx ON task_waiting (tenant_id, since);

-- Takes a lease within the tenant's limit in one round trip: 'ok' when
-- inserted, 'taken' when the task has a lease already, 'full' when the
-- tenant holds p_max_leases leases (expired ones count). The tenant's
-- advisory lock (the two-int form, class p_lock_class, apart from the
-- single-bigint locks of the elections and migrations) serializes callers
-- until the caller's transaction ends; each statement of a VOLATILE plpgsql
-- function takes a fresh snapshot, so the count sees every lease committed
-- before the lock was granted.
CREATE FUNCTION lease_put_within(p_lock_class integer, p_task_id text, p_tenant_id text, p_worker_id text,
                                 p_attempt integer, p_expires_at timestamptz, p_max_leases bigint)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    inserted integer;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_class, hashtext(p_tenant_id));
    INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
    SELECT p_task_id, p_tenant_id, p_worker_id, p_attempt, p_expires_at
    WHERE (SELECT count(*) FROM task_leases WHERE tenant_id = p_tenant_id) < p_max_leases
    ON CONFLICT (task_id) DO NOTHING;
    GET DIAGNOSTICS inserted = ROW_COUNT;
    IF inserted = 1 THEN
        RETURN 'ok';
    ELSIF EXISTS (SELECT 1 FROM task_leases WHERE task_id = p_task_id) THEN
        RETURN 'taken';
    END IF;
    RETURN 'full';
END
$$;
