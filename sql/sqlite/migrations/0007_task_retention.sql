-- Plan retention: once a tenant's plan's retention has passed since a task
-- ended, the retention job prunes the payloads and salts of the task's
-- events (DESIGN.md section 4: the digests keep the chain verifiable; the
-- events_prune_only trigger allows exactly that change).

-- When the retention job pruned the task's events, in unix microseconds,
-- UTC. Set by the job, never by events: the projection's upsert does not
-- write it, so applying events keeps it, and a rebuild of the read model
-- (which deletes every row) clears it; the job then lists those tasks again
-- and prunes them again, a no-op on pruned payloads.
ALTER TABLE task_views ADD COLUMN pruned_at INTEGER;

-- The tasks the job has still to prune, per tenant, earliest ended first:
-- the tenants that have some (one probe per tenant) and a tenant's tasks
-- ended before its cutoff. A pruned task leaves the index. A query uses
-- the index only when its WHERE repeats the predicate.
CREATE INDEX task_views_prunable_idx ON task_views (tenant_id, ended_at, task_id)
WHERE ended_at IS NOT NULL AND pruned_at IS NULL;
