package wiring_test

import (
	"path/filepath"
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
)

// openStore opens a fresh SQLite store for one test, closed at its end.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
