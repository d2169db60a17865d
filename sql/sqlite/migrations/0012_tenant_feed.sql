-- Each tenant's slice of the feed (GET /v1/events): positions are assigned
-- inline, so an index of the events table is all it takes.
CREATE INDEX events_tenant_position_idx ON events (tenant_id, position);
