package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testproc"
)

// The driver's errors for a store out of reach are recognized as such
// (eventstore.Unavailable), and the store's refusals are not: the API
// answers the first 503 and the second 4xx.
func TestUnavailableErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	port, err := testproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = Open(octx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), Config{})
	if err == nil || !eventstore.Unavailable(err) {
		t.Errorf("Open on a port where no server listens: %v; Unavailable says %v, want true", err, eventstore.Unavailable(err))
	}

	s, url := openStore(t, Config{})
	stream := taskStream("t")
	if _, err := s.Append(ctx, stream, 0, outputEvents(1, 0)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(ctx, stream, 0, outputEvents(1, 1))
	if !errors.Is(err, eventstore.ErrConflict) || eventstore.Unavailable(err) {
		t.Errorf("a conflicting append: %v; Unavailable says %v, want false", err, eventstore.Unavailable(err))
	}
	_, err = s.Append(ctx, stream, 1, []domain.NewEvent{{}})
	if eventstore.Unavailable(err) {
		t.Errorf("an invalid append: %v; Unavailable says true", err)
	}

	// Every connection of the store ended by the server, as a restart does.
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReadStream(ctx, stream.ID, 0, 10)
	if err != nil && !eventstore.Unavailable(err) {
		t.Errorf("a read on a terminated connection: %v; Unavailable says false", err)
	}
}
