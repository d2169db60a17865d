package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
)

func terminateBackend(t *testing.T, url string, pid uint32) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
}

// A sealer whose connection dies between writing ledger rows and COMMIT
// seals nothing; a sealer (here, in another store) takes over and every
// event gets exactly one position.
func TestSealerKilledMidBatch(t *testing.T) {
	t.Parallel()
	first, url := openStore(t, Config{})
	ctx := context.Background()
	if _, err := first.Append(ctx, taskStream("t"), 0, outputEvents(5, 0)); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, first, 5) // first leads now

	hookCalled := make(chan uint32, 1)
	release := make(chan struct{})
	var once sync.Once
	first.testHookBeforeSealCommit = func(pid uint32) {
		once.Do(func() {
			hookCalled <- pid
			<-release
		})
	}
	// The hook is read by the sealer goroutine; publish it before any append
	// that could reach it (the nudge's channel send orders the write).
	second := openStoreAt(t, url, Config{})
	if _, err := second.Append(ctx, taskStream("t"), 0, outputEvents(7, 0)); err != nil {
		t.Fatal(err)
	}
	first.nudgeSealer()
	var pid uint32
	select {
	case pid = <-hookCalled:
	case <-time.After(30 * time.Second):
		t.Fatal("the leading sealer never reached the hook")
	}
	terminateBackend(t, url, pid)
	close(release)

	if _, err := second.Append(ctx, taskStream("t"), 0, outputEvents(3, 0)); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, second, 15)
	feed := readWholeFeed(t, second)
	if len(feed) != 15 {
		t.Fatalf("feed has %d events, want 15", len(feed))
	}
	seen := map[string]bool{}
	for i, e := range feed {
		if e.Position != int64(i) {
			t.Fatalf("index %d has position %d", i, e.Position)
		}
		if seen[e.EventID.String()] {
			t.Fatalf("event %s sealed twice", e.EventID)
		}
		seen[e.EventID.String()] = true
	}
	assertStreamsInOrder(t, feed)
}

// A connection lost in the middle of an append writes nothing; retrying the
// same events succeeds once, and retrying again is a no-op.
func TestConnectionLostMidAppend(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := context.Background()
	stream := taskStream("t")
	events := outputEvents(4, 0)

	// Hold a lock that makes the append's INSERT wait, then kill its backend.
	blocker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = blocker.Close(ctx) }()
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE events IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	appendErr := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, stream, 0, events)
		appendErr <- err
	}()
	// pg_stat_activity is read outside the blocking transaction, which would
	// otherwise see one frozen snapshot of it.
	watcher, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = watcher.Close(ctx) }()
	var pid uint32
	deadline := time.Now().Add(30 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		err := watcher.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO events%' LIMIT 1`).Scan(&pid)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the append never waited on the lock")
	}
	terminateBackend(t, url, pid)
	if err := <-appendErr; err == nil {
		t.Fatal("append survived its connection being killed")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadStream(ctx, stream.ID, 0, 100); err != nil || len(got) != 0 {
		t.Fatalf("after the failed append the stream holds %d events (err %v); want none", len(got), err)
	}

	stored, err := s.Append(ctx, stream, 0, events)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	again, err := s.Append(ctx, stream, 0, events)
	if err != nil {
		t.Fatalf("second retry: %v", err)
	}
	if len(again) != len(stored) || again[3].Hash != stored[3].Hash {
		t.Fatal("second retry did not return the stored events")
	}
	if got, _ := s.ReadStream(ctx, stream.ID, 0, 100); len(got) != 4 {
		t.Fatalf("stream holds %d events, want 4", len(got))
	}
	if _, err := s.Append(ctx, stream, 0, outputEvents(1, 0)); !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("append at a stale seq: %v, want a conflict", err)
	}
}

// A head remembered by the cache but lost by the database (a restore, a
// failover to a replica that lacks the last commit) or replaced by another
// writer must not be chained to: the append is a conflict and the stream
// stays a valid chain.
func TestStaleCachedHeadIsNeverChainedTo(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := context.Background()
	stream := taskStream("t")
	if _, err := s.Append(ctx, stream, 0, outputEvents(3, 0)); err != nil {
		t.Fatal(err)
	}
	// seq 3 vanishes behind the cache's back.
	if _, err := s.pool.Exec(ctx, "DELETE FROM events WHERE stream_id = $1 AND seq = 3", stream.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, stream, 3, outputEvents(1, 3))
	var conflict *eventstore.ConflictError
	if !errors.As(err, &conflict) || conflict.Actual != 2 {
		t.Fatalf("append after the head vanished: %v; want a conflict at seq 2", err)
	}
	// The cache learns seq 3 again; then seq 3 is replaced by another
	// process's event with another hash, behind this store's back.
	if _, err := s.Append(ctx, stream, 2, outputEvents(1, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, "DELETE FROM events WHERE stream_id = $1 AND seq = 3", stream.ID); err != nil {
		t.Fatal(err)
	}
	other := openStoreAt(t, url, Config{DisableSealer: true})
	if _, err := other.Append(ctx, stream, 2, outputEvents(1, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, stream, 3, outputEvents(1, 3)); !errors.As(err, &conflict) {
		t.Fatalf("append chained to a replaced head: %v; want a conflict", err)
	}
	got, err := s.ReadStream(ctx, stream.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := integrity.Verify(got); err != nil || len(got) != 3 {
		t.Fatalf("stream of %d events fails verification: %v", len(got), err)
	}
}
