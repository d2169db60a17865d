-- name: WebhookSecretInsert :execrows
-- Writes a secret once: 0 rows when its id is stored already.
INSERT INTO webhook_secrets (webhook_id, secret_id, secret)
VALUES (@webhook_id, @secret_id, @secret)
ON CONFLICT (webhook_id, secret_id) DO NOTHING;

-- name: WebhookSecretGet :many
SELECT secret_id, secret FROM webhook_secrets
WHERE webhook_id = @webhook_id AND secret_id = ANY (@secret_ids::text[]);

-- name: WebhookSecretDelete :exec
DELETE FROM webhook_secrets WHERE webhook_id = @webhook_id;
