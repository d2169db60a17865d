-- name: OAuthClientInsert :exec
INSERT INTO oauth_clients (id, name, redirect_uris, created_at) VALUES (@id, @name, @redirect_uris, @now);

-- name: OAuthClientGet :one
SELECT id, name, redirect_uris, created_at FROM oauth_clients WHERE id = @id;

-- name: OAuthGrantInsert :exec
INSERT INTO oauth_grants (id, tenant_id, user_id, client_id, scope, resource, redirect_uri, code_challenge, code_hash, code_expires_at, created_at)
VALUES (@id, @tenant_id, @user_id, @client_id, @scope, @resource, @redirect_uri, @code_challenge, @code_hash, @code_expires_at, @now);

-- name: OAuthCodeRedeem :one
-- Marks the code used and stores the grant's first refresh token, if the
-- code is unused, unexpired and its grant not revoked.
UPDATE oauth_grants SET code_used = 1, refresh_hash = @refresh_hash, refresh_expires_at = @refresh_expires_at
WHERE code_hash = @code_hash AND code_used = 0 AND revoked_at IS NULL AND code_expires_at > @now
RETURNING id, tenant_id, user_id, client_id, scope, resource, redirect_uri, code_challenge, created_at;

-- name: OAuthGrantIDByCode :one
SELECT id, code_used FROM oauth_grants WHERE code_hash = @code_hash;

-- name: OAuthRefreshRotate :one
-- Replaces the grant's refresh token, if old_hash is the current one, the
-- token unexpired and the grant not revoked.
UPDATE oauth_grants SET refresh_hash = @new_hash, refresh_expires_at = @refresh_expires_at
WHERE id = @id AND refresh_hash = @old_hash AND revoked_at IS NULL AND refresh_expires_at > @now
RETURNING id, tenant_id, user_id, client_id, scope, resource, redirect_uri, code_challenge, created_at;

-- name: OAuthRotatedRefreshKeep :exec
-- Keeps the hash of a refresh token rotated away until expires_at.
INSERT INTO oauth_rotated_refresh (hash, grant_id, expires_at) VALUES (@hash, @grant_id, @expires_at);

-- name: OAuthRotatedRefreshPrune :exec
-- Drops the rotated tokens that have expired, of every grant (a revoked
-- grant's rotate no more).
DELETE FROM oauth_rotated_refresh WHERE expires_at <= @now;

-- name: OAuthGrantRevokeReplayed :execrows
-- Revokes a grant in force if hash is one of its refresh tokens rotated
-- away, while its successor lasts (a token used twice); a made-up token
-- revokes nothing.
UPDATE oauth_grants SET revoked_at = @now
WHERE id = @id AND revoked_at IS NULL
  AND EXISTS (SELECT 1 FROM oauth_rotated_refresh r WHERE r.hash = @hash AND r.grant_id = @id AND r.expires_at > @now);

-- name: OAuthGrantRevoke :execrows
-- Revokes a grant; user_id, when not empty, must own it.
UPDATE oauth_grants SET revoked_at = @now
WHERE id = @id AND (CAST(@user_id AS TEXT) = '' OR user_id = @user_id) AND revoked_at IS NULL;

-- name: OAuthGrantInForce :one
-- Whether a grant is in force (redeemed, not revoked): its access tokens
-- are taken only while it is.
SELECT count(*) FROM oauth_grants WHERE id = @id AND code_used AND revoked_at IS NULL;

-- name: OAuthRefreshRevoke :execrows
-- Revokes a grant (RFC 7009) if refresh_hash is its current refresh
-- token's: a token that is not the grant's revokes nothing.
UPDATE oauth_grants SET revoked_at = @now
WHERE id = @id AND refresh_hash = @refresh_hash AND revoked_at IS NULL;

-- name: OAuthGrantList :many
-- The user's grants in force: redeemed, not revoked, and with a refresh
-- token that has not expired (a client can no longer use one that has).
SELECT g.id, g.client_id, c.name AS client_name, g.scope, g.resource, g.created_at
FROM oauth_grants g JOIN oauth_clients c ON c.id = g.client_id
WHERE g.user_id = @user_id AND g.code_used = 1 AND g.revoked_at IS NULL AND g.refresh_expires_at > @now
ORDER BY g.created_at DESC LIMIT 100;
