-- The usage counters read model (projection "usage_counters", its
-- checkpoint in projection_checkpoints): each tenant's metered quantities
-- per UTC day, folded from the feed (task events and the usage streams'
-- usage.recorded). Dropped and rebuilt from the log at any time.
CREATE TABLE usage_counters (
    tenant_id      text   NOT NULL,
    day            date   NOT NULL, -- the UTC date
    task_run_ms    bigint NOT NULL DEFAULT 0 CHECK (task_run_ms >= 0),
    tasks_started  bigint NOT NULL DEFAULT 0 CHECK (tasks_started >= 0),
    streams_opened bigint NOT NULL DEFAULT 0 CHECK (streams_opened >= 0),
    bytes_streamed bigint NOT NULL DEFAULT 0 CHECK (bytes_streamed >= 0),
    mcp_calls      bigint NOT NULL DEFAULT 0 CHECK (mcp_calls >= 0),
    output_bytes   bigint NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
    PRIMARY KEY (tenant_id, day)
);

-- The task attempts that have started and not ended yet, by the same
-- projection: an attempt's time is counted when it ends.
CREATE TABLE usage_open_runs (
    task_id    text        PRIMARY KEY,
    tenant_id  text        NOT NULL,
    started_at timestamptz NOT NULL
);
