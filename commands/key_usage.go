package commands

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// DefaultUsageFlushInterval is the default of KeyUsageConfig.FlushInterval.
const DefaultUsageFlushInterval = 30 * time.Second

// KeyUsageStore keeps API keys' last use (eventstore.APIKeyUsageStore).
type KeyUsageStore interface {
	// APIKeyUsageTouch records uses, keeping the later of a stored and a new
	// time; at most eventstore.MaxTouchAPIKeys keys at once.
	APIKeyUsageTouch(ctx context.Context, uses map[string]time.Time) error
	// APIKeyUsageGet returns the stored last use of keys that have one.
	APIKeyUsageGet(ctx context.Context, keyIDs []string) (map[string]time.Time, error)
}

// KeyUsageConfig configures NewKeyUsage. The zero value is usable.
type KeyUsageConfig struct {
	// FlushInterval is how often Run writes the uses recorded since
	// (default DefaultUsageFlushInterval).
	FlushInterval time.Duration
	// Logger receives failed writes (default slog.Default()).
	Logger *slog.Logger
}

// KeyUsage keeps API keys' last use: the Authenticator records each use in
// memory, so that a request never writes, and Run writes them in batches.
// ListAPIKeysHandler reads them through it, written or not yet. It is safe
// for concurrent use.
type KeyUsage struct {
	store    KeyUsageStore
	interval time.Duration
	logger   *slog.Logger

	mu      sync.Mutex
	pending map[string]time.Time
}

// NewKeyUsage returns a KeyUsage that writes to store. It fails when cfg,
// with its defaults, cannot work.
func NewKeyUsage(store KeyUsageStore, cfg KeyUsageConfig) (*KeyUsage, error) {
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = DefaultUsageFlushInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if store == nil || cfg.FlushInterval < 0 {
		return nil, fmt.Errorf("key usage config: a store is required and FlushInterval (%s) must be positive", cfg.FlushInterval)
	}
	return &KeyUsage{store: store, interval: cfg.FlushInterval, logger: cfg.Logger, pending: make(map[string]time.Time)}, nil
}

func (u *KeyUsage) record(keyID string, at time.Time) {
	at = domain.NormalizeTime(at)
	u.mu.Lock()
	if at.After(u.pending[keyID]) {
		u.pending[keyID] = at
	}
	u.mu.Unlock()
}

// lastUsed returns the last use of keys that have one: the later of the
// stored and a pending, unwritten one.
func (u *KeyUsage) lastUsed(ctx context.Context, keyIDs []string) (map[string]time.Time, error) {
	used, err := u.store.APIKeyUsageGet(ctx, keyIDs)
	if err != nil {
		return nil, err
	}
	if used == nil {
		used = make(map[string]time.Time, len(keyIDs))
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, id := range keyIDs {
		if p := u.pending[id]; p.After(used[id]) {
			used[id] = p
		}
	}
	return used, nil
}

// take removes and returns the pending uses.
func (u *KeyUsage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.pending
	u.pending = make(map[string]time.Time, len(out))
	return out
}

// putBack returns uses that could not be written, keeping later ones.
func (u *KeyUsage) putBack(uses map[string]time.Time) {
	for k, t := range uses {
		u.record(k, t)
	}
}

// Run writes API keys' last use every FlushInterval until ctx ends, then
// once more. A failed write is logged and retried at the next flush.
func (u *KeyUsage) Run(ctx context.Context) {
	t := time.NewTicker(u.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			u.Flush(flushCtx)
			cancel()
			return
		case <-t.C:
			u.Flush(ctx)
		}
	}
}

// Flush writes the API key uses recorded since the last flush.
func (u *KeyUsage) Flush(ctx context.Context) {
	batch := make(map[string]time.Time)
	for k, t := range u.take() {
		batch[k] = t
		if len(batch) == eventstore.MaxTouchAPIKeys {
			u.touch(ctx, batch)
			batch = make(map[string]time.Time)
		}
	}
	if len(batch) > 0 {
		u.touch(ctx, batch)
	}
}

// touch writes one batch of uses, putting it back when the write fails.
func (u *KeyUsage) touch(ctx context.Context, uses map[string]time.Time) {
	if err := u.store.APIKeyUsageTouch(ctx, uses); err != nil {
		u.putBack(uses)
		u.logger.WarnContext(ctx, "identity: write API key last use", "keys", len(uses), "err", err)
	}
}
