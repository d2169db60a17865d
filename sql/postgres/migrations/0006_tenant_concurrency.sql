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
