-- The embedded event store (DESIGN.md section 3): the same contract as
-- Postgres. SQLite has one writer at a time, so the writer assigns the feed
-- position inline, as max(position) + 1 inside its write transaction: commit
-- order and position order are the same, and positions are dense from 0.

CREATE TABLE events (
    -- The event's place in the global feed (the rowid: feed reads are a
    -- range scan of the table itself).
    position       INTEGER PRIMARY KEY CHECK (position >= 0),
    -- Lowercase 8-4-4-4-12 text.
    event_id       TEXT    NOT NULL UNIQUE CHECK (length(event_id) = 36 AND event_id = lower(event_id)),
    stream_id      TEXT    NOT NULL,
    stream_type    TEXT    NOT NULL,
    seq            INTEGER NOT NULL CHECK (seq > 0),
    tenant_id      TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    -- The exact RFC 8785 bytes that were digested, stored as bytes and never
    -- re-rendered. NULL once pruned (the digest keeps the chain verifiable).
    payload        BLOB,
    payload_salt   BLOB CHECK (length(payload_salt) = 32),
    payload_digest BLOB    NOT NULL CHECK (length(payload_digest) = 32),
    -- domain.Metadata as JSON text; outside the hash.
    metadata       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    -- Unix microseconds, UTC.
    occurred_at    INTEGER NOT NULL,
    hash_prev      BLOB    NOT NULL CHECK (length(hash_prev) = 32),
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    -- Also the index behind stream reads and the head look-up.
    UNIQUE (stream_id, seq)
) STRICT;

-- Append-only, as a guard against bugs (not against someone who can write the
-- file: the hash chain is what exposes them). The only change allowed is
-- pruning a payload together with its salt, for retention or redaction.
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_prune_only BEFORE UPDATE ON events
WHEN NOT (NEW.payload IS NULL AND NEW.payload_salt IS NULL)
    OR NEW.position IS NOT OLD.position
    OR NEW.event_id IS NOT OLD.event_id
    OR NEW.stream_id IS NOT OLD.stream_id
    OR NEW.stream_type IS NOT OLD.stream_type
    OR NEW.seq IS NOT OLD.seq
    OR NEW.tenant_id IS NOT OLD.tenant_id
    OR NEW.type IS NOT OLD.type
    OR NEW.payload_digest IS NOT OLD.payload_digest
    OR NEW.metadata IS NOT OLD.metadata
    OR NEW.occurred_at IS NOT OLD.occurred_at
    OR NEW.hash_prev IS NOT OLD.hash_prev
    OR NEW.hash IS NOT OLD.hash
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: only payload and payload_salt may be pruned (set both to NULL)');
END;
