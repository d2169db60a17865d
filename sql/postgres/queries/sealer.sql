-- name: SealerStateGet :one
SELECT next_position, last_xid, last_id FROM sealer_state;

-- name: SealerSeal :one
-- Seals one batch in a single statement: the rows past the cursor whose
-- transactions have all ended (no transaction still running can add a row
-- that sorts before them) get the next dense positions, the cursor advances,
-- and readers are notified at commit. No row when nothing is pending.
WITH pending AS (
    SELECT id, xid
    FROM events
    WHERE (xid, id) > (sqlc.arg(last_xid)::xid8, sqlc.arg(last_id)::bigint)
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY xid, id
    LIMIT sqlc.arg(max_rows)::int
), numbered AS (
    SELECT id, xid, sqlc.arg(next_position)::bigint + row_number() OVER (ORDER BY xid, id) - 1 AS position
    FROM pending
), inserted AS (
    INSERT INTO ledger (position, event_row)
    SELECT position, id FROM numbered
    RETURNING position
), last AS (
    SELECT id, xid, position FROM numbered ORDER BY position DESC LIMIT 1
), advanced AS (
    UPDATE sealer_state s
    SET next_position = last.position + 1, last_xid = last.xid, last_id = last.id
    FROM last
    RETURNING s.next_position, s.last_xid, s.last_id
)
SELECT next_position, last_xid, last_id,
       (SELECT count(*) FROM inserted) AS sealed,
       pg_notify('axontask_feed', next_position::text)::text AS notified
FROM advanced;

-- name: SealerBlocked :one
-- Whether rows past the cursor wait for a transaction that is still running.
SELECT EXISTS (
    SELECT 1 FROM events
    WHERE (xid, id) > (@last_xid::xid8, @last_id::bigint)
) AS blocked;
