-- Plan retention: once a tenant's plan's retention has passed since a task
-- ended, the retention job prunes the payloads and salts of the task's
-- events (DESIGN.md section 4: the digests keep the chain verifiable).

-- When the retention job pruned the task's events. Set by the job
-- (TaskViewsMarkPruned), never by events: the projection's upsert does not
-- write it, so applying events keeps it, and a rebuild of the read model
-- (which deletes every row) clears it; the job then lists those tasks again
-- and prunes them again, a no-op on pruned payloads.
ALTER TABLE task_views ADD COLUMN pruned_at timestamptz;

-- The tasks the job has still to prune, per tenant, earliest ended first:
-- the tenants that have some (TaskViewsTenantsWithEnded, one probe per
-- tenant) and a tenant's tasks ended before its cutoff (TaskViewsEndedOfTenant).
-- Ids sort in byte order (COLLATE "C") whatever the database's collation,
-- as the SQLite store sorts them. A pruned task leaves the index. A query
-- uses the index only when its WHERE repeats the predicate and the
-- collation. Building it reads task_views once, holding the projection's
-- writes back meanwhile.
CREATE INDEX task_views_prunable_idx ON task_views (tenant_id COLLATE "C", ended_at, task_id COLLATE "C")
WHERE ended_at IS NOT NULL AND pruned_at IS NULL;
