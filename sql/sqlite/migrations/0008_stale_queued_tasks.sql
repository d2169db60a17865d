-- Stale queued tasks: a queued task whose work message was lost (a bus
-- stream trimmed, or a crash between the commit and the publish with the
-- relay's copy gone too) would stay queued forever. The task list read
-- model finds them (StaleQueuedTasks): queued since before a cutoff,
-- without a lease and without a task_waiting row, for a worker to
-- dispatch again.

-- When the task was last queued, in unix microseconds, UTC: the time of
-- its latest task.queued event the projection has applied (a retry queues
-- a task again). NULL for a task never queued. Written by the projection's
-- upsert, so a rebuild of the read model computes it again.
ALTER TABLE task_views ADD COLUMN queued_at INTEGER;

-- Rows projected before this column: the queued ones get the time of their
-- latest task.queued event up to the row's last_seq (so the row stays what
-- the projection made of those events), found by a backwards range of the
-- (stream_id, seq) index that stops at that event, in practice the
-- stream's last: a queued task has not started. created_at is a fallback
-- that the lifecycle never needs (a task is queued only by a task.queued
-- event), so that no queued row is left without a time and out of the
-- listing. Rows in other states keep NULL until they are queued again or
-- the read model is rebuilt: only queued rows are listed by it.
UPDATE task_views
SET queued_at = COALESCE((SELECT e.occurred_at FROM events e
                          WHERE e.stream_id = task_views.task_id AND e.seq <= task_views.last_seq
                            AND e.type = 'task.queued'
                          ORDER BY e.seq DESC
                          LIMIT 1), created_at)
WHERE state = 'queued';

-- The queued tasks, oldest queued first. Only queued rows are in the
-- index, few at any time: a task leaves it when it starts. A query uses
-- the index only when its WHERE repeats the predicate (the literal
-- 'queued', not a parameter).
CREATE INDEX task_views_queued_idx ON task_views (queued_at, task_id)
WHERE state = 'queued';
