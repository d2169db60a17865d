-- Workers' holds on running task attempts, renewed every few seconds. Not
-- events: only a lost lease becomes one (task.lease_lost, by the watchdog).
CREATE TABLE task_leases (
    task_id    text        PRIMARY KEY,
    tenant_id  text        NOT NULL,
    worker_id  text        NOT NULL,
    attempt    integer     NOT NULL CHECK (attempt > 0),
    expires_at timestamptz NOT NULL
);

CREATE INDEX task_leases_expires_at_idx ON task_leases (expires_at);
