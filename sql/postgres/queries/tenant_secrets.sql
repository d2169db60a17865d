-- name: TenantSecretUpsert :one
-- Stores a secret's sealed value, replacing the one stored under the name;
-- created is false when it replaced one (created_at is kept).
INSERT INTO tenant_secrets AS s (tenant_id, name, key_id, key_sealed, value_sealed, created_at, updated_at)
VALUES (@tenant_id, @name, @key_id, @key_sealed, @value_sealed, @now, @now)
ON CONFLICT (tenant_id, name) DO UPDATE
SET key_id = excluded.key_id, key_sealed = excluded.key_sealed, value_sealed = excluded.value_sealed, updated_at = excluded.updated_at
RETURNING (xmax = 0)::boolean AS created;

-- name: TenantSecretList :many
SELECT name, created_at, updated_at, last_used_at FROM tenant_secrets
WHERE tenant_id = @tenant_id ORDER BY name;

-- name: TenantSecretUse :many
-- Returns the sealed secrets of the names and marks them used at now.
UPDATE tenant_secrets SET last_used_at = @now
WHERE tenant_id = @tenant_id AND name = ANY (@names::text[])
RETURNING name, key_id, key_sealed, value_sealed;

-- name: TenantSecretDelete :execrows
DELETE FROM tenant_secrets WHERE tenant_id = @tenant_id AND name = @name;

-- name: TenantSecretSealedByOthers :many
-- A page of the rows whose data key another operator key than key_id seals.
SELECT tenant_id, name, key_id, key_sealed FROM tenant_secrets
WHERE key_id <> @key_id ORDER BY tenant_id, name LIMIT @max_rows;

-- name: TenantSecretReseal :execrows
-- Replaces a row's sealed data key, if it is still the one read.
UPDATE tenant_secrets SET key_id = @new_key_id, key_sealed = @new_key_sealed
WHERE tenant_id = @tenant_id AND name = @name AND key_id = @old_key_id AND key_sealed = @old_key_sealed;
