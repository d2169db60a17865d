-- name: EventsInsert :exec
-- One event at its feed position. SQLite has one writer: it numbers the
-- events inside its write transaction, after FeedHead. The parameters are
-- anonymous (?), named after their columns: the driver allocates for the
-- name of every numbered one (?NNN) at every run, and this one runs once
-- per event.
INSERT INTO events (position, event_id, stream_id, stream_type, seq, tenant_id, type,
    payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: StreamHead :one
SELECT seq, hash, tenant_id, stream_type
FROM events
WHERE stream_id = @stream_id
ORDER BY seq DESC
LIMIT 1;

-- name: StreamRead :many
SELECT position, event_id, stream_id, stream_type, seq, tenant_id, type,
    payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash
FROM events
WHERE stream_id = @stream_id AND seq > @after_seq
ORDER BY seq
LIMIT @max_events;

-- name: EventsGetByIDs :many
-- Takes the ids as one JSON array, so that one prepared statement serves
-- any batch size; it probes the event_id index.
SELECT position, event_id, stream_id, stream_type, seq, tenant_id, type,
    payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash
FROM events
WHERE event_id IN (SELECT value FROM json_each(CAST(@event_ids AS TEXT)))
ORDER BY stream_id, seq;

-- name: FeedRead :many
-- The feed from a position: a range of the table itself (position is the
-- rowid).
SELECT position, event_id, stream_id, stream_type, seq, tenant_id, type,
    payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash
FROM events
WHERE position >= @from_position
ORDER BY position
LIMIT @max_events;

-- name: FeedEntriesRead :many
-- FeedRead's events, with only the columns of their hashed entries: what
-- the transparency log's leaves hash (MerkleLeavesRead).
SELECT position, event_id, stream_id, seq, type, occurred_at, payload_digest, hash_prev
FROM events
WHERE position >= @from_position
ORDER BY position
LIMIT @max_events;

-- name: FeedHead :one
-- The next feed position: positions are dense from 0.
SELECT CAST(COALESCE(MAX(position) + 1, 0) AS INTEGER) AS next_position FROM events;
