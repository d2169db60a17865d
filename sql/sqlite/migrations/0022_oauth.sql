-- OAuth for MCP: operational state beside the log, outside the hash chain,
-- the feed and exports. oauth_clients are the clients registered through
-- POST /oauth/register (RFC 7591). oauth_grants are the user's
-- authorizations: one row per authorization code, which becomes the grant's
-- refresh token family when it is redeemed. Only hashes of codes and
-- refresh tokens are stored. Times are unix microseconds, UTC.
CREATE TABLE oauth_clients (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    redirect_uris TEXT    NOT NULL, -- a JSON array of strings
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE oauth_grants (
    id                 TEXT    PRIMARY KEY,
    tenant_id          TEXT    NOT NULL,
    user_id            TEXT    NOT NULL,
    client_id          TEXT    NOT NULL REFERENCES oauth_clients (id),
    scope              TEXT    NOT NULL,
    resource           TEXT    NOT NULL,
    redirect_uri       TEXT    NOT NULL,
    code_challenge     TEXT    NOT NULL,
    code_hash          BLOB    NOT NULL UNIQUE,
    code_expires_at    INTEGER NOT NULL,
    code_used          INTEGER NOT NULL DEFAULT 0,
    refresh_hash       BLOB,
    refresh_expires_at INTEGER,
    created_at         INTEGER NOT NULL,
    revoked_at         INTEGER
) STRICT;

-- The dashboard lists a user's grants.
CREATE INDEX oauth_grants_user ON oauth_grants (user_id, created_at);
