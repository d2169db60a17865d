-- How many tasks each tenant has started on each UTC day, to enforce a
-- plan's daily task cap exactly however many processes start tasks at once:
-- a start is counted by one upsert in a write transaction that refuses to
-- pass the cap. Operational state, not events: outside the hash chain and
-- the feed, not rebuilt by any projection. If lost, it can be rebuilt by
-- counting the task.created events of each tenant per UTC day of their
-- occurred_at. Only the current day is consulted: rows older than a few
-- days may be deleted.
CREATE TABLE tenant_daily_usage (
    tenant_id TEXT    NOT NULL,
    day       TEXT    NOT NULL -- the UTC date, 'YYYY-MM-DD'
        CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    tasks     INTEGER NOT NULL CHECK (tasks >= 0),
    PRIMARY KEY (tenant_id, day)
) STRICT, WITHOUT ROWID;
