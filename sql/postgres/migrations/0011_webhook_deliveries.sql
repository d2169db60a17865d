-- Webhook deliveries: operational state beside the log, outside the hash
-- chain and the feed. The dispatcher reads the feed from its checkpoint (a
-- row of projection_checkpoints) and stores, in the same transaction, the
-- endpoints it knows and one delivery per event and endpoint; senders claim
-- each endpoint's oldest pending delivery, so an endpoint gets its events
-- in feed order, and record every attempt.

CREATE TABLE webhook_endpoints (
    webhook_id text    PRIMARY KEY,
    tenant_id  text    NOT NULL,
    events     text[]  NOT NULL,
    active     boolean NOT NULL
);

CREATE TABLE webhook_deliveries (
    id              text        PRIMARY KEY,
    webhook_id      text        NOT NULL,
    tenant_id       text        NOT NULL,
    position        bigint      NOT NULL,
    stream_id       text        NOT NULL,
    seq             bigint      NOT NULL,
    event_type      text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    leased_until    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    last_status     integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT ''
);

-- Each endpoint's pending deliveries in feed order: the claim's heads.
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (webhook_id, position) WHERE state = 'pending';
-- The delivery log, newest first.
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, position DESC);
-- Ended deliveries by tenant and age: the retention job's.
CREATE INDEX webhook_deliveries_ended_idx ON webhook_deliveries (tenant_id, updated_at) WHERE state <> 'pending';

CREATE TABLE webhook_attempts (
    delivery_id text        NOT NULL,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer     NOT NULL,
    latency_us  bigint      NOT NULL,
    response    text        NOT NULL,
    error       text        NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
