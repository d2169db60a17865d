-- Read models (DESIGN.md section 1, "Read side"). Each is rebuilt from the
-- event store's feed and can be dropped at any time; its checkpoint (the
-- next feed position it will apply) moves in the same transaction as its rows.

-- projection_checkpoints also keeps the positions of feed consumers outside
-- this database, such as the relay (name "relay").
CREATE TABLE projection_checkpoints (
    name          text   PRIMARY KEY,
    next_position bigint NOT NULL CHECK (next_position >= 0)
);

-- One row per task: what the task list shows. It lags the log by the
-- projection's delay; a task's status is read from its stream instead.
CREATE TABLE task_views (
    task_id       text        PRIMARY KEY,
    tenant_id     text        NOT NULL,
    name          text        NOT NULL DEFAULT '',
    adapter       text        NOT NULL DEFAULT '',
    state         text        NOT NULL,
    attempt       integer     NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    started_at    timestamptz,
    ended_at      timestamptz,
    last_seq      bigint      NOT NULL CHECK (last_seq > 0),
    last_position bigint      NOT NULL CHECK (last_position >= 0)
);

-- The list is newest first per tenant, optionally of one state, paged by
-- the keyset (created_at, task_id).
CREATE INDEX task_views_tenant_created_idx ON task_views (tenant_id, created_at DESC, task_id DESC);
CREATE INDEX task_views_tenant_state_created_idx ON task_views (tenant_id, state, created_at DESC, task_id DESC);
