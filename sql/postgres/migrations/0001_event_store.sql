-- The event store (DESIGN.md section 3): append-only events, each stream a
-- hash chain, and a ledger that gives every committed event a dense position
-- in commit order.

CREATE TABLE events (
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    stream_type    text        NOT NULL,
    seq            bigint      NOT NULL CHECK (seq > 0),
    tenant_id      text        NOT NULL,
    type           text        NOT NULL,
    -- The exact RFC 8785 bytes that were digested. bytea, never jsonb: jsonb
    -- re-renders. NULL once pruned (the digest keeps the chain verifiable).
    payload        bytea,
    payload_salt   bytea CHECK (length(payload_salt) = 32),
    payload_digest bytea       NOT NULL CHECK (length(payload_digest) = 32),
    metadata       jsonb       NOT NULL DEFAULT '{}',
    occurred_at    timestamptz NOT NULL,
    hash_prev      bytea       NOT NULL CHECK (length(hash_prev) = 32),
    hash           bytea       NOT NULL CHECK (length(hash) = 32),
    CONSTRAINT events_pkey PRIMARY KEY (stream_id, seq),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

-- One row per append, written by the same statement as its events: the run
-- of seqs first_seq .. first_seq + count - 1 of one stream. The row carries
-- the writing transaction's id; the sealer seals appends whose xid is below
-- every running transaction's, so no later commit can slip in behind them.
-- (Stamping the append rather than each event keeps the per-event cost of
-- the feed to nothing.)
CREATE TABLE appends (
    -- Orders the appends of one transaction; the (xid, id) index is the key.
    id        bigint  GENERATED ALWAYS AS IDENTITY,
    stream_id text    NOT NULL,
    first_seq bigint  NOT NULL CHECK (first_seq > 0),
    count     integer NOT NULL CHECK (count > 0),
    xid       xid8    NOT NULL DEFAULT pg_current_xact_id()
);

CREATE UNIQUE INDEX appends_xid_id_key ON appends (xid, id);

-- The global feed: positions 0, 1, 2 … assigned by the single elected sealer
-- in commit order, never updated, never re-filled. One row covers one
-- append (an append of 100 output lines is one row): the event with seq s in
-- it has position first_position + (s - first_seq). Rows do not overlap, in
-- positions or in a stream's seqs.
CREATE TABLE ledger (
    first_position bigint  PRIMARY KEY CHECK (first_position >= 0),
    stream_id      text    NOT NULL,
    first_seq      bigint  NOT NULL CHECK (first_seq > 0),
    count          integer NOT NULL CHECK (count > 0),
    CONSTRAINT ledger_stream_seq_key UNIQUE (stream_id, first_seq)
);

-- The feed position of a stream's event, or NULL while it is unsealed.
CREATE FUNCTION event_position(p_stream_id text, p_seq bigint) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.first_position + (p_seq - r.first_seq)
    FROM ledger r
    WHERE r.stream_id = p_stream_id AND r.first_seq <= p_seq AND p_seq < r.first_seq + r.count
    ORDER BY r.first_seq DESC
    LIMIT 1
$$;

-- The sealer's cursor: the next position and the (xid, id) of the last sealed
-- append. Updated in the same transaction as the ledger rows it describes.
CREATE TABLE sealer_state (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    next_position bigint  NOT NULL,
    last_xid      xid8    NOT NULL,
    last_id       bigint  NOT NULL
);

INSERT INTO sealer_state (next_position, last_xid, last_id) VALUES (0, '0'::xid8, 0);
