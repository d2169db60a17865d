package domain

import "time"

// APIKey is the API key aggregate. The zero value is a key whose stream is
// empty.
type APIKey struct {
	seq        int64
	tenantID   string
	name       string
	prefix     string
	scopes     Scopes
	secretHash string
	createdBy  string
	createdAt  time.Time
	revokedAt  time.Time
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (k *APIKey) Seq() int64 { return k.seq }

// Exists reports whether the key has been created.
func (k *APIKey) Exists() bool { return k.seq > 0 }

// TenantID returns the tenant the key acts in.
func (k *APIKey) TenantID() string { return k.tenantID }

// Name returns the key's display name.
func (k *APIKey) Name() string { return k.name }

// Prefix returns the key's lookup prefix, the part shown in listings.
func (k *APIKey) Prefix() string { return k.prefix }

// Scopes returns what the key may do.
func (k *APIKey) Scopes() Scopes { return k.scopes }

// SecretHash returns the lowercase hex SHA-256 of the key's secret.
func (k *APIKey) SecretHash() string { return k.secretHash }

// CreatedBy returns the user who created the key.
func (k *APIKey) CreatedBy() string { return k.createdBy }

// CreatedAt returns when the key was created.
func (k *APIKey) CreatedAt() time.Time { return k.createdAt }

// Revoked reports whether the key is revoked; RevokedAt says when.
func (k *APIKey) Revoked() bool { return !k.revokedAt.IsZero() }

// RevokedAt returns when the key was revoked (zero if it is not).
func (k *APIKey) RevokedAt() time.Time { return k.revokedAt }

// Apply evolves the key by one stored event.
func (k *APIKey) Apply(e Event) error {
	var allowed []EventType
	switch {
	case k.seq == 0:
		allowed = []EventType{APIKeyCreatedType}
	case !k.Revoked():
		allowed = []EventType{APIKeyRevokedType}
	}
	p, err := applyNext("API key", k.seq, e, allowed...)
	if err != nil {
		return err
	}
	switch p := p.(type) {
	case *APIKeyCreated:
		scopes, err := ParseScopes(p.Scopes)
		if err != nil {
			return err
		}
		k.tenantID = e.TenantID
		k.name = p.Name
		k.prefix = p.Prefix
		k.scopes = scopes
		k.secretHash = p.SecretHash
		k.createdBy = p.CreatedBy
		k.createdAt = e.OccurredAt
	case *APIKeyRevoked:
		k.revokedAt = e.OccurredAt
	}
	k.seq = e.Seq
	return nil
}
