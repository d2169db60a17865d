package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// ErrTooManySecrets means the tenant has domain.MaxSecretsPerTenant secrets
// (409).
var ErrTooManySecrets = fmt.Errorf("the tenant has %d secrets, the limit; delete unused ones first (DELETE /v1/secrets/{name})", domain.MaxSecretsPerTenant)

// SecretVault seals, keeps and deletes tenant secrets (secrets.Vault is
// one).
type SecretVault interface {
	Set(ctx context.Context, tenantID, name string, value []byte) (created bool, err error)
	List(ctx context.Context, tenantID string) ([]eventstore.SecretInfo, error)
	Delete(ctx context.Context, tenantID, name string) (deleted bool, err error)
}

// SecretConfig configures NewSecretHandlers.
type SecretConfig struct {
	// Store keeps the secrets' streams (their secret.* events); required.
	Store IdentityStore
	// Vault keeps the values; required.
	Vault SecretVault
	// NowFunc gives the time (default time.Now).
	NowFunc func() time.Time
}

// SecretHandlers are the handlers of the tenant secret commands and
// queries, each of the one shape Handler[C, R]. Build them with
// NewSecretHandlers and decorate them once where they are wired
// (Decorated).
type SecretHandlers struct {
	Set    Handler[SetSecret, SecretResult]
	Delete Handler[DeleteSecret, struct{}]
	List   Handler[ListSecrets, []eventstore.SecretInfo]
}

// SecretResult is a secret SetSecret set: its times, and whether it
// replaced an existing value.
type SecretResult struct {
	Info    eventstore.SecretInfo
	Rotated bool
}

// NewSecretHandlers returns the secret handlers. It fails when cfg cannot
// work.
func NewSecretHandlers(cfg SecretConfig) (SecretHandlers, error) {
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Store == nil || cfg.Vault == nil {
		return SecretHandlers{}, errors.New("secret config: Store and Vault are required")
	}
	d := &secretDeps{cfg: cfg, w: Writer{Store: cfg.Store, NowFunc: cfg.NowFunc}}
	return SecretHandlers{Set: &SetSecretHandler{d}, Delete: &DeleteSecretHandler{d}, List: &ListSecretsHandler{d}}, nil
}

// Decorated returns h with every handler wrapped by Decorate with logger
// and metrics. Call it once, where the handlers are wired.
func (h SecretHandlers) Decorated(logger *slog.Logger, metrics MetricsClient) SecretHandlers {
	return SecretHandlers{Set: Decorate(h.Set, logger, metrics), Delete: Decorate(h.Delete, logger, metrics), List: Decorate(h.List, logger, metrics)}
}

// Validate reports the first handler of h that is nil, as an error naming
// it; nil when h is complete.
func (h SecretHandlers) Validate() error { return firstNil(h, "secret handlers", "NewSecretHandlers") }

// secretDeps is what the secret handlers share; safe for concurrent use.
type secretDeps struct {
	cfg SecretConfig
	w   Writer
}

// secretNamespace derives the id of a secret's stream from its tenant and
// name, so that every change of one name lands in one stream.
var secretNamespace = uuid.MustParse("6f1d2c4e-5a3b-4e8f-9c7d-0a1b2c3d4e5f")

// secretStream returns the stream of the tenant's secret name.
func secretStream(tenantID, name string) eventstore.Stream {
	id := uuid.NewSHA1(secretNamespace, []byte(tenantID+"\x00"+name))
	return eventstore.Stream{ID: id.String(), Type: domain.StreamSecret, TenantID: tenantID}
}

// record appends to the stream of the tenant's secret name what decide
// decides, by principal by.
func (d *secretDeps) record(ctx context.Context, by Principal, name string, meta domain.Metadata, decide func(*domain.Secret) ([]domain.Payload, error)) error {
	meta.Actor = by.Actor()
	stream := secretStream(by.TenantID, name)
	var s domain.Secret
	if err := Load(ctx, d.w.Store, stream, &s); err != nil {
		return err
	}
	_, err := Update(ctx, d.w, Target{Stream: stream, Meta: meta}, &s, decide)
	return err
}

// find returns the tenant's secret name as the vault lists it.
func (d *secretDeps) find(ctx context.Context, tenantID, name string) (eventstore.SecretInfo, bool, []eventstore.SecretInfo, error) {
	list, err := d.cfg.Vault.List(ctx, tenantID)
	if err != nil {
		return eventstore.SecretInfo{}, false, nil, err
	}
	for _, s := range list {
		if s.Name == name {
			return s, true, list, nil
		}
	}
	return eventstore.SecretInfo{}, false, list, nil
}
