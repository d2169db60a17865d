-- Webhook signing secrets: operational state beside the log (the webhook
-- events name only the id of the secret that signs), outside the hash
-- chain, the feed and exports. A secret is written once, before the event
-- that names it; an endpoint's rows go when it is deleted.
CREATE TABLE webhook_secrets (
    webhook_id TEXT    NOT NULL,
    secret_id  TEXT    NOT NULL,
    secret     BLOB    NOT NULL,
    PRIMARY KEY (webhook_id, secret_id)
) STRICT;
