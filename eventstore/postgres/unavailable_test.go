package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

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

	// A connection of the store ended by the server, as a restart does: a
	// query on it fails, and the failure is an outage, not a refusal. (The
	// pool would replace a dead idle connection before a store call used
	// it, so the query goes to that very connection.)
	conn, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	terminateBackend(t, url, conn.Conn().PgConn().PID())
	_, err = conn.Exec(ctx, "SELECT 1")
	if err == nil || !eventstore.Unavailable(err) {
		t.Errorf("a query on a terminated connection: %v; Unavailable says %v, want an error it calls unavailable", err, eventstore.Unavailable(err))
	}
}
