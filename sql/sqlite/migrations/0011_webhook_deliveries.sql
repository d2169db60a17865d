-- Webhook deliveries: operational state beside the log, outside the hash
-- chain and the feed. The dispatcher reads the feed from its checkpoint (a
-- row of projection_checkpoints) and stores, in the same transaction, the
-- endpoints it knows and one delivery per event and endpoint; senders claim
-- each endpoint's oldest pending delivery, so an endpoint gets its events
-- in feed order, and record every attempt. Times are unix microseconds.

CREATE TABLE webhook_endpoints (
    webhook_id TEXT    PRIMARY KEY,
    tenant_id  TEXT    NOT NULL,
    events     TEXT    NOT NULL, -- a JSON array
    active     INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id              TEXT    PRIMARY KEY,
    webhook_id      TEXT    NOT NULL,
    tenant_id       TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    stream_id       TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    leased_until    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (webhook_id, position) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, position DESC);
CREATE INDEX webhook_deliveries_ended_idx ON webhook_deliveries (tenant_id, updated_at) WHERE state <> 'pending';

CREATE TABLE webhook_attempts (
    delivery_id TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL,
    latency_us  INTEGER NOT NULL,
    response    TEXT    NOT NULL,
    error       TEXT    NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;
