-- name: SealerStateGet :one
SELECT next_position, last_xid, last_id FROM sealer_state;

-- name: SealerSeal :one
-- Seals one batch in a single statement: the appends past the cursor whose
-- transactions have all ended (no transaction still running can add an
-- append that sorts before them) get the next dense positions in (xid, id)
-- order, one ledger row each; the cursor advances, and readers are notified
-- at commit. No row when nothing is pending. The ledger's primary key makes
-- a sealer with a stale cursor fail instead of sealing anything twice.
WITH pending AS (
    SELECT id, xid, stream_id, first_seq, count
    FROM appends
    WHERE (xid, id) > (sqlc.arg(last_xid)::xid8, sqlc.arg(last_id)::bigint)
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY xid, id
    LIMIT sqlc.arg(max_appends)::int
), numbered AS (
    SELECT id, xid, stream_id, first_seq, count,
           sqlc.arg(next_position)::bigint + sum(count) OVER (ORDER BY xid, id) - count AS first_position
    FROM pending
), inserted AS (
    INSERT INTO ledger (first_position, stream_id, first_seq, count)
    SELECT first_position, stream_id, first_seq, count FROM numbered
    RETURNING count
), last AS (
    SELECT id, xid, first_position + count AS next FROM numbered ORDER BY first_position DESC LIMIT 1
), advanced AS (
    UPDATE sealer_state s
    SET next_position = last.next, last_xid = last.xid, last_id = last.id
    FROM last
    RETURNING s.next_position, s.last_xid, s.last_id
)
SELECT next_position, last_xid, last_id,
       (SELECT coalesce(sum(count), 0) FROM inserted)::bigint AS sealed,
       (SELECT count(*) FROM inserted)::bigint AS appends,
       pg_notify('axontask_feed', next_position::text)::text AS notified
FROM advanced;

-- name: SealerBlocked :one
-- Whether appends past the cursor wait for a transaction that is still
-- running: whether any committed append is past it (the sealer asks when it
-- found nothing to seal). The scan runs from the newest append back: the
-- committed appends that answer it are behind the oldest running
-- transaction, which is where a scan from the cursor forward starts,
-- walking every uncommitted append of that transaction first, a
-- visibility check each. A batch start of 1,000 tasks made that about
-- 10 ms a call, asked every few milliseconds while the batch was written.
-- (A long transaction that is also the newest is walked either way.) A
-- scalar subquery with LIMIT 1, not EXISTS: the planner drops an ORDER BY
-- inside EXISTS, and with it the scan's direction.
SELECT ((
    SELECT xid FROM appends
    WHERE (xid, id) > (@last_xid::xid8, @last_id::bigint)
    ORDER BY xid DESC, id DESC
    LIMIT 1
) IS NOT NULL)::boolean AS blocked;

-- name: SealerPending :one
-- How many appends have committed, or are being committed, past the
-- sealer's cursor: those the feed has not given positions yet (a range of
-- appends_xid_id_key).
SELECT count(*)::bigint AS appends
FROM appends a CROSS JOIN sealer_state s
WHERE (a.xid, a.id) > (s.last_xid, s.last_id);
