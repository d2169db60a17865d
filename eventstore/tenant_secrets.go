package eventstore

import (
	"context"
	"time"
)

// Bounds of a stored tenant secret, in bytes. They leave room around the
// value limit a caller enforces (secrets.MaxValueLen) for the seal's nonce,
// tag and version byte.
const (
	// MaxSealedSecretLen bounds a sealed value.
	MaxSealedSecretLen = 64<<10 + 256
	// MaxSealedKeyLen bounds a sealed data key.
	MaxSealedKeyLen = 256
	// MaxSecretKeyIDLen bounds an operator key's id.
	MaxSecretKeyIDLen = 64
)

// SealedSecret is a tenant secret as it is stored: sealed, never in the
// clear (package secrets seals and opens it).
type SealedSecret struct {
	TenantID string
	Name     string
	// KeyID names the operator key that seals KeySealed.
	KeyID string
	// KeySealed is the secret's data key, sealed by the operator key.
	KeySealed []byte
	// ValueSealed is the value, sealed by the data key.
	ValueSealed []byte
}

// SecretInfo describes a stored tenant secret, without its value.
type SecretInfo struct {
	Name      string
	CreatedAt time.Time
	// UpdatedAt is when the value was last set (CreatedAt, or the last
	// rotation).
	UpdatedAt time.Time
	// LastUsedAt is when a worker last resolved it for a task; zero if
	// never.
	LastUsedAt time.Time
}

// TenantSecretStore keeps tenant secrets, sealed, by tenant and name: one
// port of the operational state beside the log (see Store). Sealed values
// are in no hash chain, no feed and no export; the secret.* events name the
// secret only. Both engines' stores implement it;
// eventstore/storetest.RunTenantSecrets is its conformance suite. An
// invalid argument is a *domain.ValidationError and writes nothing.
type TenantSecretStore interface {
	// TenantSecretPut stores s at now, replacing the value stored under its
	// tenant and name (the creation time is kept). created reports whether
	// there was none.
	TenantSecretPut(ctx context.Context, s SealedSecret, now time.Time) (created bool, err error)

	// TenantSecretList returns the tenant's secrets, by name.
	TenantSecretList(ctx context.Context, tenantID string) ([]SecretInfo, error)

	// TenantSecretUse returns the tenant's stored secrets of the names
	// (those that are stored; at most MaxSecretsUsed names) and records
	// that they were used at now.
	TenantSecretUse(ctx context.Context, tenantID string, names []string, now time.Time) ([]SealedSecret, error)

	// TenantSecretDelete deletes the tenant's secret name; deleted reports
	// whether there was one.
	TenantSecretDelete(ctx context.Context, tenantID, name string) (deleted bool, err error)

	// TenantSecretSealedByOthers returns up to limit stored secrets (every
	// tenant's) whose data key is sealed by another operator key than
	// keyID, without their values (ValueSealed is nil): what a rotation of
	// the operator key re-seals.
	TenantSecretSealedByOthers(ctx context.Context, keyID string, limit int) ([]SealedSecret, error)

	// TenantSecretReseal replaces old's sealed data key by keySealed,
	// sealed by keyID, if the stored one is still old's (a value set
	// meanwhile has a new data key and wins). It reports whether it
	// replaced it.
	TenantSecretReseal(ctx context.Context, old SealedSecret, keyID string, keySealed []byte) (bool, error)
}

// MaxSecretsUsed bounds the names of one TenantSecretUse.
const MaxSecretsUsed = 256
