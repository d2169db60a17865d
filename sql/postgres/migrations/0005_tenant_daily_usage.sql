-- How many tasks each tenant has started on each UTC day, to enforce a
-- plan's daily task cap exactly however many API servers start tasks at
-- once: a start is counted by one atomic upsert that refuses to pass the
-- cap. Operational state, not events: outside the hash chain and the feed,
-- not rebuilt by any projection. If lost, it can be rebuilt by counting the
-- task.created events of each tenant per UTC day of their occurred_at. Only
-- the current day is consulted: rows older than a few days may be deleted.
CREATE TABLE tenant_daily_usage (
    tenant_id text    NOT NULL,
    day       date    NOT NULL, -- the UTC date
    tasks     integer NOT NULL CHECK (tasks >= 0),
    PRIMARY KEY (tenant_id, day)
);
