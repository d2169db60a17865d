// Package teststores opens a fresh, real event store of every engine for a
// test, so that packages built on the store run their tests against each:
// an SQLite file in the test's temporary directory and a Postgres database
// of its own (internal/testpg). A package that uses it needs
// func TestMain(m *testing.M) { testpg.Main(m) }.
package teststores

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/projections"
)

// Store is every port that each engine's concrete store implements: the
// event log, the operational stores beside it and the read models' stores.
// Tests pass it wherever a port is needed, as the binary's wiring passes
// the concrete store.
type Store interface {
	eventstore.Store
	eventstore.BatchAppender
	eventstore.LeaseStore
	eventstore.LeaseAppender
	eventstore.BatchAppender
	eventstore.TaskStartStore
	eventstore.APIKeyUsageStore
	eventstore.WaitingStore
	eventstore.PruneStore
	eventstore.MerkleStore
	eventstore.WebhookSecretStore
	eventstore.TenantSecretStore
	eventstore.WebhookDeliveryStore
	eventstore.TenantFeedStore
	eventstore.OAuthStore
	projections.TaskViewStore
	projections.StaleQueuedStore
	projections.EndedTaskStore
	projections.UsageStore
	// UsageCounters returns the projection that keeps the usage counters.
	UsageCounters() projections.Projection
}

// Engine opens fresh stores of one implementation.
type Engine struct {
	Name string
	// Open returns an empty store for t alone, closed when t ends.
	Open func(t *testing.T, opts eventstore.Options) Store
}

// Engines lists every store implementation.
var Engines = []Engine{
	{"sqlite", func(t *testing.T, opts eventstore.Options) Store { return OpenSQLite(t, opts) }},
	{"postgres", func(t *testing.T, opts eventstore.Options) Store {
		t.Helper()
		url := testpg.NewDatabase(t, testpg.Fast)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := postgres.Open(ctx, url, postgres.Config{Options: opts})
		if err != nil {
			t.Fatalf("open Postgres store: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

// OpenSQLite returns an empty SQLite store in t's temporary directory,
// opened with opts and closed when t ends: the engine a test picks when it
// needs a store but tests nothing of the engines (no Postgres is started).
func OpenSQLite(t *testing.T, opts eventstore.Options) *sqlite.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("open SQLite store %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// ForEach runs test as a parallel subtest against a fresh store of each
// engine, opened with opts.
func ForEach(t *testing.T, opts eventstore.Options, test func(t *testing.T, s Store)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, e.Open(t, opts))
		})
	}
}
