-- The task list read model's tasks in each state, for the operators'
-- metrics (axontask_tasks). Counting them at a scrape was a scan of
-- task_views, which holds every task the retention period keeps: about
-- 120 ms per million tasks (EXPLAIN ANALYZE on a million-row copy), read
-- by every serve process at most once every 5 s. Statement triggers keep the
-- counts in the transaction of every write to task_views (the projection's
-- upserts, a rebuild's delete, retention's marks, which change no state),
-- whichever process or version makes it; a read is a handful of rows. A
-- state whose tasks are all gone keeps its row at 0; the read leaves such
-- rows out.
CREATE TABLE task_view_counts (
    state text   PRIMARY KEY,
    tasks bigint NOT NULL
);

-- Adds the rows a statement wrote (added) and takes away those it replaced
-- or deleted (removed); a trigger names only the transition tables its
-- event has, and each branch reads only those.
CREATE FUNCTION task_view_counts_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_view_counts AS c (state, tasks)
        SELECT state, count(*) FROM added GROUP BY state
        ON CONFLICT (state) DO UPDATE SET tasks = c.tasks + excluded.tasks;
    ELSIF TG_OP = 'TRUNCATE' THEN
        UPDATE task_view_counts SET tasks = 0;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE task_view_counts c SET tasks = c.tasks - r.n
        FROM (SELECT state, count(*) AS n FROM removed GROUP BY state) r
        WHERE c.state = r.state;
    ELSE
        INSERT INTO task_view_counts AS c (state, tasks)
        SELECT state, sum(n) FROM (
            SELECT state, count(*) AS n FROM added GROUP BY state
            UNION ALL
            SELECT state, -count(*) FROM removed GROUP BY state) d
        GROUP BY state
        HAVING sum(n) <> 0
        ON CONFLICT (state) DO UPDATE SET tasks = c.tasks + excluded.tasks;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER task_view_counts_insert AFTER INSERT ON task_views
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION task_view_counts_move();
CREATE TRIGGER task_view_counts_update AFTER UPDATE ON task_views
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION task_view_counts_move();
CREATE TRIGGER task_view_counts_delete AFTER DELETE ON task_views
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION task_view_counts_move();
CREATE TRIGGER task_view_counts_truncate AFTER TRUNCATE ON task_views
    FOR EACH STATEMENT EXECUTE FUNCTION task_view_counts_move();

-- The tasks already there, counted once. Creating the triggers above took
-- a lock that waits for the writes in flight and holds off new ones until
-- this migration commits (for as long as this count's scan of task_views
-- takes), and migrations run read committed (Migrate), so this count sees
-- every write the triggers did not: none is counted twice or missed.
INSERT INTO task_view_counts (state, tasks)
SELECT state, count(*) FROM task_views GROUP BY state;
