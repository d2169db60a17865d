-- The usage counters read model (projection "usage_counters", its
-- checkpoint in projection_checkpoints): each tenant's metered quantities
-- per UTC day, folded from the feed (task events and the usage streams'
-- usage.recorded). Dropped and rebuilt from the log at any time.
CREATE TABLE usage_counters (
    tenant_id      TEXT    NOT NULL,
    day            INTEGER NOT NULL, -- midnight UTC of the day, unix microseconds
    task_run_ms    INTEGER NOT NULL DEFAULT 0 CHECK (task_run_ms >= 0),
    tasks_started  INTEGER NOT NULL DEFAULT 0 CHECK (tasks_started >= 0),
    streams_opened INTEGER NOT NULL DEFAULT 0 CHECK (streams_opened >= 0),
    bytes_streamed INTEGER NOT NULL DEFAULT 0 CHECK (bytes_streamed >= 0),
    mcp_calls      INTEGER NOT NULL DEFAULT 0 CHECK (mcp_calls >= 0),
    output_bytes   INTEGER NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
    PRIMARY KEY (tenant_id, day)
) STRICT, WITHOUT ROWID;

-- The task attempts that have started and not ended yet, by the same
-- projection: an attempt's time is counted when it ends. Times are unix
-- microseconds, UTC.
CREATE TABLE usage_open_runs (
    task_id    TEXT    PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    started_at INTEGER NOT NULL
) STRICT;
