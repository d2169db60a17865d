package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
)

// openStore opens a store on a fresh database of its own.
func openStore(t *testing.T, cfg Config) (*Store, string) {
	t.Helper()
	url := testpg.NewDatabase(t, testpg.Fast)
	return openStoreAt(t, url, cfg), url
}

// openStoreAt opens another store (another "process") on an existing database.
func openStoreAt(t *testing.T, url string, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, url, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func taskStream(tenant string) eventstore.Stream {
	return eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: tenant}
}

func outputEvents(n int, from int) []domain.NewEvent {
	out := make([]domain.NewEvent, n)
	for i := range out {
		out[i] = domain.NewEvent{
			EventID:    uuid.New(),
			Type:       domain.TaskOutputType,
			Payload:    fmt.Appendf(nil, `{"stream":"stdout","data":"line %d\n","offset":%d}`, from+i, from+i),
			OccurredAt: time.Now(),
		}
	}
	return out
}

// waitFeed waits until the feed holds at least n events.
func waitFeed(t *testing.T, s eventstore.Store, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitFeed(ctx, n-1); err != nil {
		t.Fatalf("wait for %d events in the feed: %v", n, err)
	}
}

// readWholeFeed reads the entire feed from position 0.
func readWholeFeed(t *testing.T, s eventstore.Store) []domain.Event {
	t.Helper()
	var all []domain.Event
	for {
		page, err := s.ReadFeed(context.Background(), int64(len(all)), 1000)
		if err != nil {
			t.Fatalf("read feed: %v", err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}
