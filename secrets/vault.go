package secrets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// Store is what a Vault needs of the event store
// (eventstore.TenantSecretStore).
type Store interface {
	TenantSecretPut(ctx context.Context, s eventstore.SealedSecret, now time.Time) (bool, error)
	TenantSecretList(ctx context.Context, tenantID string) ([]eventstore.SecretInfo, error)
	TenantSecretUse(ctx context.Context, tenantID string, names []string, now time.Time) ([]eventstore.SealedSecret, error)
	TenantSecretDelete(ctx context.Context, tenantID, name string) (bool, error)
	TenantSecretSealedByOthers(ctx context.Context, keyID string, limit int) ([]eventstore.SealedSecret, error)
	TenantSecretReseal(ctx context.Context, old eventstore.SealedSecret, keyID string, keySealed []byte) (bool, error)
}

// ErrNotConfigured means the server has no operator key, so it can neither
// seal nor open secrets.
var ErrNotConfigured = errors.New("tenant secrets are not enabled on this server: its operator sets SECRETS_KEY (32 random bytes in base64, e.g. from `openssl rand -base64 32`) and restarts it")

// MissingError is a task's reference to secrets its tenant does not have.
type MissingError struct {
	Names []string
}

func (e *MissingError) Error() string {
	n := e.Names[0]
	if len(e.Names) == 1 {
		return fmt.Sprintf("secret %q does not exist in this tenant; create it with POST /v1/secrets or `axontask secret set %s`, then start the task again", n, n)
	}
	return fmt.Sprintf("secrets %q do not exist in this tenant; create each with POST /v1/secrets or `axontask secret set NAME`, then start the task again", e.Names)
}

// Vault seals, stores, opens and re-seals tenant secrets. It is safe for
// concurrent use. A Vault without a keyring lists and deletes secrets but
// sets and resolves none (ErrNotConfigured).
type Vault struct {
	store Store
	keys  *Keyring
	now   func() time.Time
}

// NewVault returns a vault over store that seals with keys (nil: secrets
// are not enabled) at the times now gives (nil: time.Now).
func NewVault(store Store, keys *Keyring, now func() time.Time) *Vault {
	if now == nil {
		now = time.Now
	}
	return &Vault{store: store, keys: keys, now: now}
}

// Set seals value under a new data key and stores it as the tenant's secret
// name, replacing its value if it has one; created reports whether it had
// none. The name and value are checked as domain.ValidateSecret does.
func (v *Vault) Set(ctx context.Context, tenantID, name string, value []byte) (created bool, err error) {
	if err := domain.ValidateSecret(name, value); err != nil {
		return false, err
	}
	sealed, err := v.seal(tenantID, name, value)
	if err != nil {
		return false, err
	}
	return v.store.TenantSecretPut(ctx, sealed, v.now())
}

// seal seals value by a new data key and that key by the current operator
// key.
func (v *Vault) seal(tenantID, name string, value []byte) (eventstore.SealedSecret, error) {
	if v.keys == nil {
		return eventstore.SealedSecret{}, ErrNotConfigured
	}
	dataKey, _, err := GenerateKey()
	if err != nil {
		return eventstore.SealedSecret{}, err
	}
	valueSealed, err := seal(dataKey.key, value, valueAAD(tenantID, name))
	if err != nil {
		return eventstore.SealedSecret{}, err
	}
	cur := v.keys.current
	keySealed, err := seal(cur.key, dataKey.key, keyAAD(cur.id, tenantID, name))
	if err != nil {
		return eventstore.SealedSecret{}, err
	}
	return eventstore.SealedSecret{TenantID: tenantID, Name: name, KeyID: cur.id, KeySealed: keySealed, ValueSealed: valueSealed}, nil
}

// open opens a stored secret's value.
func (v *Vault) open(s eventstore.SealedSecret) ([]byte, error) {
	dataKey, err := v.openKey(s)
	if err != nil {
		return nil, err
	}
	value, err := open(dataKey, s.ValueSealed, valueAAD(s.TenantID, s.Name))
	if err != nil {
		return nil, fmt.Errorf("secret %q: its value %w", s.Name, err)
	}
	return value, nil
}

// openKey opens a stored secret's data key.
func (v *Vault) openKey(s eventstore.SealedSecret) ([]byte, error) {
	if v.keys == nil {
		return nil, ErrNotConfigured
	}
	k, err := v.keys.key(s.KeyID)
	if err != nil {
		return nil, fmt.Errorf("secret %q: its data key is %w", s.Name, err)
	}
	dataKey, err := open(k.key, s.KeySealed, keyAAD(s.KeyID, s.TenantID, s.Name))
	if err != nil {
		return nil, fmt.Errorf("secret %q: its data key %w", s.Name, err)
	}
	return dataKey, nil
}

// List returns the tenant's secrets, by name, without their values.
func (v *Vault) List(ctx context.Context, tenantID string) ([]eventstore.SecretInfo, error) {
	return v.store.TenantSecretList(ctx, tenantID)
}

// Delete deletes the tenant's secret name; deleted reports whether there
// was one.
func (v *Vault) Delete(ctx context.Context, tenantID, name string) (bool, error) {
	return v.store.TenantSecretDelete(ctx, tenantID, name)
}

// Resolve returns the values of the tenant's secrets names and records
// that they were used. Names the tenant has no secret of are a
// *MissingError naming them; a secret that does not open (another
// operator key, a changed row) is an error naming it. Values are strings:
// what environment variables and arguments hold.
func (v *Vault) Resolve(ctx context.Context, tenantID string, names []string) (map[string]string, error) {
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	if v.keys == nil {
		return nil, ErrNotConfigured
	}
	sealed, err := v.store.TenantSecretUse(ctx, tenantID, names, v.now())
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(sealed))
	for _, s := range sealed {
		value, err := v.open(s)
		if err != nil {
			return nil, err
		}
		out[s.Name] = string(value)
	}
	var missing []string
	for _, n := range names {
		if _, ok := out[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingError{Names: missing}
	}
	return out, nil
}

// rotatePage is how many secrets RotateKey re-seals per read.
const rotatePage = 100

// RotateKey re-seals, under the current operator key, the data key of
// every stored secret (of every tenant) that a previous key seals, and
// returns how many it re-sealed. Values are not touched. A secret sealed
// by a key the keyring does not have stops it with an error naming the
// secret and the key's id; nothing it re-sealed before is undone. It is
// safe to run while the server serves and in several processes at once: a
// value set meanwhile keeps its new seal.
func (v *Vault) RotateKey(ctx context.Context) (int, error) {
	if v.keys == nil {
		return 0, ErrNotConfigured
	}
	cur := v.keys.current
	n := 0
	for {
		page, err := v.store.TenantSecretSealedByOthers(ctx, cur.id, rotatePage)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		for _, s := range page {
			dataKey, err := v.openKey(s)
			if err != nil {
				return n, fmt.Errorf("tenant %s: %w", s.TenantID, err)
			}
			keySealed, err := seal(cur.key, dataKey, keyAAD(cur.id, s.TenantID, s.Name))
			if err != nil {
				return n, err
			}
			ok, err := v.store.TenantSecretReseal(ctx, s, cur.id, keySealed)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
}
