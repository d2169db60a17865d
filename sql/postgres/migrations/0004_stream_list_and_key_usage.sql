-- Listing a tenant's small streams (API keys, members, webhooks …), and the
-- last use of each API key.

-- The first event of every stream that is not a task: one entry per stream,
-- so a tenant's API keys are listed without reading their other events.
-- Task streams, by far the most numerous, are left out (the task list is
-- the task_views projection). stream_id sorts in byte order (COLLATE "C")
-- whatever the database's collation, as the SQLite store sorts it. A
-- query uses the index only when its WHERE repeats the predicate literally
-- (StreamsList does). Building it reads the events table once, holding
-- appends back meanwhile.
CREATE INDEX events_tenant_type_stream_idx ON events (tenant_id, stream_type, stream_id COLLATE "C")
WHERE seq = 1 AND stream_type <> 'task';

-- When each API key was last used, as reported in batches by the API
-- servers. Operational state, not events: outside the hash chain and the
-- feed, not rebuilt by any projection. A row's time never moves backwards.
CREATE TABLE api_key_usage (
    key_id       text        PRIMARY KEY,
    last_used_at timestamptz NOT NULL
);
