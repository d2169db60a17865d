-- OAuth for MCP: operational state beside the log, outside the hash chain,
-- the feed and exports. oauth_clients are the clients registered through
-- POST /oauth/register (RFC 7591). oauth_grants are the user's
-- authorizations: one row per authorization code, which becomes the grant's
-- refresh token family when it is redeemed. Only hashes of codes and
-- refresh tokens are stored.
CREATE TABLE oauth_clients (
    id            text        PRIMARY KEY,
    name          text        NOT NULL,
    redirect_uris text        NOT NULL, -- a JSON array of strings
    created_at    timestamptz NOT NULL
);

CREATE TABLE oauth_grants (
    id                 text        PRIMARY KEY,
    tenant_id          text        NOT NULL,
    user_id            text        NOT NULL,
    client_id          text        NOT NULL REFERENCES oauth_clients (id),
    scope              text        NOT NULL,
    resource           text        NOT NULL,
    redirect_uri       text        NOT NULL,
    code_challenge     text        NOT NULL,
    code_hash          bytea       NOT NULL UNIQUE,
    code_expires_at    timestamptz NOT NULL,
    code_used          boolean     NOT NULL DEFAULT false,
    refresh_hash       bytea,
    refresh_expires_at timestamptz,
    created_at         timestamptz NOT NULL,
    revoked_at         timestamptz
);

-- The dashboard lists a user's grants.
CREATE INDEX oauth_grants_user ON oauth_grants (user_id, created_at);
