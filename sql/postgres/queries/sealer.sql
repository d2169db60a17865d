-- name: SealerStateGet :one
SELECT next_position, last_xid, last_id FROM sealer_state;

-- name: SealerSeal :one
-- Seals one batch in a single statement: the rows past the cursor whose
-- transactions have all ended (no transaction still running can add a row
-- that sorts before them) get the next dense positions in (xid, id) order,
-- one ledger row per run of consecutive seqs of one stream in one
-- transaction; the cursor advances, and readers are notified at commit.
-- No row when nothing is pending. The ledger's primary key makes a sealer
-- with a stale cursor fail instead of sealing anything twice.
WITH pending AS (
    SELECT id, xid, stream_id, seq
    FROM events
    WHERE (xid, id) > (sqlc.arg(last_xid)::xid8, sqlc.arg(last_id)::bigint)
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY xid, id
    LIMIT sqlc.arg(max_rows)::int
), ranked AS (
    -- A row starts a new run unless it directly follows the previous row of
    -- the same transaction and stream with the next seq.
    SELECT id, xid, stream_id, seq, row_number() OVER w AS rn,
           CASE WHEN lag(xid) OVER w = xid AND lag(stream_id) OVER w = stream_id
                     AND lag(seq) OVER w = seq - 1
                THEN 0 ELSE 1 END AS starts_run
    FROM pending
    WINDOW w AS (ORDER BY xid, id)
), numbered AS (
    SELECT id, xid, stream_id, seq, rn, sum(starts_run) OVER (ORDER BY rn) AS run
    FROM ranked
), runs AS (
    SELECT min(stream_id) AS stream_id, min(seq) AS first_seq, count(*) AS n, min(rn) AS first_rn
    FROM numbered
    GROUP BY run
), inserted AS (
    INSERT INTO ledger (first_position, stream_id, first_seq, count)
    SELECT sqlc.arg(next_position)::bigint + first_rn - 1, stream_id, first_seq, n
    FROM runs
    RETURNING count
), last AS (
    SELECT id, xid, rn FROM numbered ORDER BY rn DESC LIMIT 1
), advanced AS (
    UPDATE sealer_state s
    SET next_position = sqlc.arg(next_position)::bigint + last.rn, last_xid = last.xid, last_id = last.id
    FROM last
    RETURNING s.next_position, s.last_xid, s.last_id
)
SELECT next_position, last_xid, last_id,
       (SELECT coalesce(sum(count), 0) FROM inserted)::bigint AS sealed,
       pg_notify('axontask_feed', next_position::text)::text AS notified
FROM advanced;

-- name: SealerBlocked :one
-- Whether rows past the cursor wait for a transaction that is still running.
SELECT EXISTS (
    SELECT 1 FROM events
    WHERE (xid, id) > (@last_xid::xid8, @last_id::bigint)
) AS blocked;
