-- Each tenant's slice of the feed (GET /v1/events): one row per event, in
-- feed position order per tenant, kept by the tenant_feed projection
-- (its checkpoint in projection_checkpoints) from the sealed feed, so a
-- row's position is final. The ledger has no tenant; this index is what
-- lets a tenant's reader skip every other tenant's events.
CREATE TABLE tenant_feed (
    tenant_id   text   NOT NULL,
    position    bigint NOT NULL,
    stream_id   text   NOT NULL,
    seq         bigint NOT NULL,
    stream_type text   NOT NULL,
    type        text   NOT NULL,
    PRIMARY KEY (tenant_id, position)
);
