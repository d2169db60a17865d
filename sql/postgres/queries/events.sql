-- name: EventsAppend :batchone
-- Appends a batch to one stream in a single atomic statement, with its row
-- in appends, only if the stream's head is the one the batch was chained to
-- (prev_seq, prev_hash; an empty stream for prev_seq 0): no row means the
-- head moved or vanished. The unique (stream_id, seq) and event_id
-- constraints turn a lost race or a retry into a unique violation that the
-- store translates. It is a batch query: one round trip sends the appends
-- of many streams (AppendBatch, group commit), each all or nothing, with
-- the lease drops of attempts' ends between them.
WITH inserted AS (
    INSERT INTO events (event_id, stream_id, stream_type, seq, tenant_id, type, payload, payload_salt,
                        payload_digest, metadata, occurred_at, hash_prev, hash)
    SELECT unnest(@event_ids::uuid[]), @stream_id::text, @stream_type::text, unnest(@seqs::bigint[]),
           @tenant_id::text, unnest(@types::text[]), unnest(@payloads::bytea[]),
           unnest(@payload_salts::bytea[]), unnest(@payload_digests::bytea[]),
           unnest(@metadata::jsonb[]), unnest(@occurred_ats::timestamptz[]),
           unnest(@hash_prevs::bytea[]), unnest(@hashes::bytea[])
    WHERE CASE WHEN @prev_seq::bigint = 0
               THEN NOT EXISTS (SELECT 1 FROM events h WHERE h.stream_id = @stream_id::text)
               ELSE EXISTS (SELECT 1 FROM events h WHERE h.stream_id = @stream_id::text
                            AND h.seq = @prev_seq::bigint AND h.hash = @prev_hash::bytea)
          END
    RETURNING seq
)
INSERT INTO appends (stream_id, first_seq, count)
SELECT @stream_id::text, min(seq), count(*)
FROM inserted
HAVING count(*) > 0
RETURNING count;

-- name: StreamHead :one
SELECT seq, hash, tenant_id, stream_type
FROM events
WHERE stream_id = @stream_id
ORDER BY seq DESC
LIMIT 1;

-- name: StreamRead :many
-- A stream's events, each with its feed position (-1, domain.NoPosition, while unsealed).
SELECT sqlc.embed(e), coalesce(event_position(e.stream_id, e.seq), -1)::bigint AS position
FROM events e
WHERE e.stream_id = @stream_id AND e.seq > @after_seq
ORDER BY e.seq
LIMIT @max_events;

-- name: EventsGetByIDs :many
SELECT sqlc.embed(e), coalesce(event_position(e.stream_id, e.seq), -1)::bigint AS position
FROM events e
WHERE e.event_id = ANY (@event_ids::uuid[])
ORDER BY e.stream_id, e.seq;

-- name: FeedRead :many
-- The feed from a position: the ledger runs overlapping
-- [from_position, from_position + max_events), each expanded to its
-- events by the primary key. The LATERAL's LIMIT keeps the planner from
-- flattening it into a join, which it would run as a scan of the whole
-- events table (hundreds of ms per read at a million events).
SELECT e.event_id, e.stream_id, e.stream_type, e.seq, e.tenant_id, e.type, e.payload, e.payload_salt,
    e.payload_digest, e.metadata, e.occurred_at, e.hash_prev, e.hash,
    (l.first_position + (e.seq - l.first_seq))::bigint AS position
FROM ledger l
CROSS JOIN LATERAL (
  SELECT * FROM events ev
  WHERE ev.stream_id = l.stream_id
    AND ev.seq >= greatest(l.first_seq, l.first_seq + (sqlc.arg(from_position)::bigint - l.first_position))
    AND ev.seq < l.first_seq + least(l.count, sqlc.arg(from_position)::bigint + sqlc.arg(max_events)::int - l.first_position)
  ORDER BY ev.seq
  LIMIT l.count
) e
WHERE l.first_position >= coalesce((SELECT max(m.first_position) FROM ledger m WHERE m.first_position <= sqlc.arg(from_position)::bigint), 0)
  AND l.first_position < sqlc.arg(from_position)::bigint + sqlc.arg(max_events)::int
ORDER BY position
LIMIT sqlc.arg(max_events)::int;

-- name: FeedEntriesRead :many
-- FeedRead's events, with only the columns of their hashed entries: what
-- the transparency log's leaves hash (MerkleLeavesRead).
SELECT e.event_id, e.stream_id, e.seq, e.type, e.occurred_at, e.payload_digest, e.hash_prev,
    (l.first_position + (e.seq - l.first_seq))::bigint AS position
FROM ledger l
CROSS JOIN LATERAL (
  SELECT ev.event_id, ev.stream_id, ev.seq, ev.type, ev.occurred_at, ev.payload_digest, ev.hash_prev FROM events ev
  WHERE ev.stream_id = l.stream_id
    AND ev.seq >= greatest(l.first_seq, l.first_seq + (sqlc.arg(from_position)::bigint - l.first_position))
    AND ev.seq < l.first_seq + least(l.count, sqlc.arg(from_position)::bigint + sqlc.arg(max_events)::int - l.first_position)
  ORDER BY ev.seq
  LIMIT l.count
) e
WHERE l.first_position >= coalesce((SELECT max(m.first_position) FROM ledger m WHERE m.first_position <= sqlc.arg(from_position)::bigint), 0)
  AND l.first_position < sqlc.arg(from_position)::bigint + sqlc.arg(max_events)::int
ORDER BY position
LIMIT sqlc.arg(max_events)::int;

-- name: FeedHead :one
SELECT next_position FROM sealer_state;
