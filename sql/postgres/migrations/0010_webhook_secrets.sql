-- Webhook signing secrets: operational state beside the log (the webhook
-- events name only the version that signs), outside the hash chain, the
-- feed and exports. A version is written once; an endpoint's rows go when
-- it is deleted.
CREATE TABLE webhook_secrets (
    webhook_id text   NOT NULL,
    version    bigint NOT NULL CHECK (version > 0),
    secret     bytea  NOT NULL,
    PRIMARY KEY (webhook_id, version)
);
