-- name: WebhookSecretInsert :execrows
-- Writes a version once: 0 rows when it is stored already.
INSERT INTO webhook_secrets (webhook_id, version, secret)
VALUES (@webhook_id, @version, @secret)
ON CONFLICT (webhook_id, version) DO NOTHING;

-- name: WebhookSecretGet :many
SELECT version, secret FROM webhook_secrets
WHERE webhook_id = @webhook_id AND version = ANY (@versions::bigint[]);

-- name: WebhookSecretDelete :exec
DELETE FROM webhook_secrets WHERE webhook_id = @webhook_id;
