-- Webhook signing secrets: operational state beside the log (the webhook
-- events name only the version that signs), outside the hash chain, the
-- feed and exports. A version is written once; an endpoint's rows go when
-- it is deleted.
CREATE TABLE webhook_secrets (
    webhook_id TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version > 0),
    secret     BLOB    NOT NULL,
    PRIMARY KEY (webhook_id, version)
) STRICT;
