-- Read models (DESIGN.md section 1, "Read side"). Each is rebuilt from the
-- event store's feed and can be dropped at any time; its checkpoint (the
-- next feed position it will apply) moves in the same transaction as its rows.

CREATE TABLE projection_checkpoints (
    name          TEXT    PRIMARY KEY,
    next_position INTEGER NOT NULL CHECK (next_position >= 0)
) STRICT;

-- One row per task: what the task list shows. It lags the log by the
-- projection's delay; a task's status is read from its stream instead.
-- Times are unix microseconds, UTC.
CREATE TABLE task_views (
    task_id       TEXT    PRIMARY KEY,
    tenant_id     TEXT    NOT NULL,
    name          TEXT    NOT NULL DEFAULT '',
    adapter       TEXT    NOT NULL DEFAULT '',
    state         TEXT    NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    ended_at      INTEGER,
    last_seq      INTEGER NOT NULL CHECK (last_seq > 0),
    last_position INTEGER NOT NULL CHECK (last_position >= 0)
) STRICT;

-- The list is newest first per tenant, optionally of one state, paged by
-- the keyset (created_at, task_id).
CREATE INDEX task_views_tenant_created_idx ON task_views (tenant_id, created_at DESC, task_id DESC);
CREATE INDEX task_views_tenant_state_created_idx ON task_views (tenant_id, state, created_at DESC, task_id DESC);
