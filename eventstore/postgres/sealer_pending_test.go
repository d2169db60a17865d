package postgres

import (
	"testing"
)

// SealerPending counts the appends committed without feed positions: all
// of them while no sealer runs, none once one has sealed them.
func TestSealerPending(t *testing.T) {
	t.Parallel()
	unsealed, url := openStore(t, Config{DisableSealer: true})
	pending := func(s *Store) int64 {
		t.Helper()
		n, err := s.SealerPending(t.Context())
		if err != nil {
			t.Fatalf("SealerPending: %v", err)
		}
		return n
	}
	if n := pending(unsealed); n != 0 {
		t.Fatalf("SealerPending of an empty store: %d", n)
	}
	for i := range 2 {
		if _, err := unsealed.Append(t.Context(), taskStream("tenant-a"), 0, outputEvents(3, 3*i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := pending(unsealed); n != 2 {
		t.Fatalf("SealerPending with no sealer, after 2 appends: %d", n)
	}
	sealer := openStoreAt(t, url, Config{})
	waitFeed(t, sealer, 6)
	if n := pending(unsealed); n != 0 {
		t.Fatalf("SealerPending once sealed: %d", n)
	}
}
