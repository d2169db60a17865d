-- The hashes of refresh tokens rotated away, each kept until its successor
-- expires (which is no earlier than its own expiry). A refresh with one of
-- them is a token used twice, which may have leaked, and revokes its grant;
-- a token that is neither the grant's current one nor one of these was made
-- up (the grant id it names is no secret) and revokes nothing.
CREATE TABLE oauth_rotated_refresh (
    hash       bytea       PRIMARY KEY,
    grant_id   text        NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);

-- Each rotation drops the rotated tokens that have expired, of every grant.
CREATE INDEX oauth_rotated_refresh_expiry ON oauth_rotated_refresh (expires_at);
