-- name: EventsAppend :exec
-- Appends a batch to one stream in a single atomic statement. The unique
-- (stream_id, seq) and event_id constraints turn a lost race or a retry into
-- a unique violation that the store translates.
INSERT INTO events (event_id, stream_id, stream_type, seq, tenant_id, type, payload, payload_salt,
                    payload_digest, metadata, occurred_at, hash_prev, hash)
SELECT unnest(@event_ids::uuid[]), @stream_id::text, @stream_type::text, unnest(@seqs::bigint[]),
       @tenant_id::text, unnest(@types::text[]), unnest(@payloads::bytea[]),
       unnest(@payload_salts::bytea[]), unnest(@payload_digests::bytea[]),
       unnest(@metadata::jsonb[]), unnest(@occurred_ats::timestamptz[]),
       unnest(@hash_prevs::bytea[]), unnest(@hashes::bytea[]);

-- name: StreamHead :one
SELECT seq, hash, tenant_id, stream_type
FROM events
WHERE stream_id = @stream_id
ORDER BY seq DESC
LIMIT 1;

-- name: StreamRead :many
SELECT sqlc.embed(e), l.position
FROM events e
LEFT JOIN ledger l ON l.event_row = e.id
WHERE e.stream_id = @stream_id AND e.seq > @after_seq
ORDER BY e.seq
LIMIT @max_events;

-- name: EventsGetByIDs :many
SELECT sqlc.embed(e), l.position
FROM events e
LEFT JOIN ledger l ON l.event_row = e.id
WHERE e.event_id = ANY (@event_ids::uuid[])
ORDER BY e.stream_id, e.seq;

-- name: FeedRead :many
SELECT sqlc.embed(e), l.position
FROM ledger l
JOIN events e ON e.id = l.event_row
WHERE l.position >= @from_position
ORDER BY l.position
LIMIT @max_events;

-- name: FeedHead :one
SELECT next_position FROM sealer_state;
