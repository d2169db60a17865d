-- Workers' holds on running task attempts, renewed every few seconds. Not
-- events: only a lost lease becomes one (task.lease_lost, by the watchdog).
CREATE TABLE task_leases (
    task_id    TEXT    PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    worker_id  TEXT    NOT NULL,
    attempt    INTEGER NOT NULL CHECK (attempt > 0),
    expires_at INTEGER NOT NULL -- unix microseconds, UTC
) STRICT;

CREATE INDEX task_leases_expires_at_idx ON task_leases (expires_at);
