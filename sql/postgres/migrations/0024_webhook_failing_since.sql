-- When the endpoint's current run of failed attempts began: set by the
-- first failure after a success (or ever), cleared by a success. An
-- endpoint failing for five days (counted from its last enabling at the
-- earliest) is disabled; a run measured here is not fooled by a
-- redelivered old delivery, nor cut short by how many deliveries a busy
-- endpoint has. Endpoints failing before this migration start a new run.
ALTER TABLE webhook_endpoints ADD COLUMN failing_since timestamptz;

-- Each endpoint's delivery in flight (a pending delivery under a claim):
-- the claim takes no other delivery of an endpoint that has one, so that a
-- redelivered older delivery does not go out beside it.
CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (webhook_id, leased_until)
    WHERE state = 'pending' AND leased_until IS NOT NULL;
