-- Tenant secrets: values the tenant's tasks refer to by name, encrypted at
-- rest. Operational state beside the log (the secret.* events name the
-- secret, never its value), outside the hash chain, the feed and exports.
-- Envelope encryption: value_sealed is the value sealed (AES-256-GCM) by a
-- random data key; key_sealed is that data key sealed by the operator key
-- key_id names. Both bind the tenant and the name as additional data, so a
-- row copied to another tenant or name does not open. Times are unix
-- microseconds, UTC.
CREATE TABLE tenant_secrets (
    tenant_id    TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    key_id       TEXT    NOT NULL,
    key_sealed   BLOB    NOT NULL,
    value_sealed BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    PRIMARY KEY (tenant_id, name)
) STRICT;

-- Rotation of the operator key finds the rows sealed by other keys.
CREATE INDEX tenant_secrets_key_id ON tenant_secrets (key_id);
