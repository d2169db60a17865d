-- name: SealerStateGet :one
SELECT next_position, last_xid, last_id FROM sealer_state;

-- name: SealerPending :many
-- Rows past the cursor written by transactions that have all ended: no
-- transaction still running can add a row that sorts before them.
SELECT id, xid
FROM events
WHERE (xid, id) > (@last_xid::xid8, @last_id::bigint)
  AND xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid, id
LIMIT @max_rows;

-- name: SealerBlocked :one
-- Whether rows past the cursor wait for a transaction that is still running.
SELECT EXISTS (
    SELECT 1 FROM events
    WHERE (xid, id) > (@last_xid::xid8, @last_id::bigint)
) AS blocked;

-- name: LedgerInsert :exec
INSERT INTO ledger (position, event_row)
SELECT sqlc.arg(first_position)::bigint + u.ord - 1, u.row_id
FROM unnest(@event_rows::bigint[]) WITH ORDINALITY AS u(row_id, ord);

-- name: SealerStateAdvance :exec
UPDATE sealer_state
SET next_position = @next_position, last_xid = @last_xid, last_id = @last_id;
