package commands

import (
	"context"
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// keyUsage collects API keys' last use in memory between flushes, so that a
// request never writes.
type keyUsage struct {
	mu      sync.Mutex
	pending map[string]time.Time
}

func newKeyUsage() *keyUsage { return &keyUsage{pending: make(map[string]time.Time)} }

func (u *keyUsage) record(keyID string, at time.Time) {
	at = domain.NormalizeTime(at)
	u.mu.Lock()
	if at.After(u.pending[keyID]) {
		u.pending[keyID] = at
	}
	u.mu.Unlock()
}

// lastUsed returns the later of stored and a pending, unwritten use.
func (u *keyUsage) lastUsed(keyID string, stored time.Time) time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p := u.pending[keyID]; p.After(stored) {
		return p
	}
	return stored
}

// take removes and returns the pending uses.
func (u *keyUsage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.pending
	u.pending = make(map[string]time.Time, len(out))
	return out
}

// putBack returns uses that could not be written, keeping later ones.
func (u *keyUsage) putBack(uses map[string]time.Time) {
	for k, t := range uses {
		u.record(k, t)
	}
}

// Run writes API keys' last use every UsageFlushInterval until ctx ends,
// then once more. A failed write is logged and retried at the next flush.
func (id *Identity) Run(ctx context.Context) {
	t := time.NewTicker(id.cfg.UsageFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			id.FlushUsage(flushCtx)
			cancel()
			return
		case <-t.C:
			id.FlushUsage(ctx)
		}
	}
}

// FlushUsage writes the API key uses recorded since the last flush.
func (id *Identity) FlushUsage(ctx context.Context) {
	batch := make(map[string]time.Time)
	for k, t := range id.usage.take() {
		batch[k] = t
		if len(batch) == eventstore.MaxTouchAPIKeys {
			id.touch(ctx, batch)
			batch = make(map[string]time.Time)
		}
	}
	if len(batch) > 0 {
		id.touch(ctx, batch)
	}
}

// touch writes one batch of uses, putting it back when the write fails.
func (id *Identity) touch(ctx context.Context, uses map[string]time.Time) {
	if err := id.cfg.Store.APIKeyUsageTouch(ctx, uses); err != nil {
		id.usage.putBack(uses)
		id.cfg.Logger.WarnContext(ctx, "identity: write API key last use", "keys", len(uses), "err", err)
	}
}
