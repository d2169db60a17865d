package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
	"github.com/axontask/axontask/integrity"
)

// open opens a store at path and closes it at the end of the test.
func open(t *testing.T, path string, opts eventstore.Options) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openRaw opens the file directly, bypassing the store: another program.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var task = eventstore.Stream{ID: "task-1", Type: domain.StreamTask, TenantID: "tenant-1"}

func output(i int) []domain.NewEvent {
	return []domain.NewEvent{{
		EventID:    uuid.New(),
		Type:       domain.TaskOutputType,
		Payload:    fmt.Appendf(nil, `{"stream":"stdout","data":"line %d","offset":%d}`, i, i*7),
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC),
	}}
}

func appendOK(t *testing.T, s eventstore.Store, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) []domain.Event {
	t.Helper()
	got, err := s.Append(t.Context(), stream, expectedSeq, events)
	if err != nil {
		t.Fatalf("Append(%s, %d): %v", stream.ID, expectedSeq, err)
	}
	return got
}

func readAll(t *testing.T, s eventstore.Store, streamID string) []domain.Event {
	t.Helper()
	events, err := s.ReadStream(t.Context(), streamID, 0, 0)
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", streamID, err)
	}
	return events
}

// readFirst returns the stream's first event.
func readFirst(t *testing.T, s eventstore.Store, streamID string) domain.Event {
	t.Helper()
	events := readAll(t, s, streamID)
	if len(events) == 0 {
		t.Fatalf("ReadStream(%s) returned no events", streamID)
	}
	return events[0]
}

// TestReopen closes and reopens the file: the events are all there, with
// their positions, and appends go on from the stored heads.
func TestReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	first := open(t, path, eventstore.Options{})
	appendOK(t, first, task, 0, output(1))
	appendOK(t, first, task, 1, output(2))
	before := readAll(t, first, task.ID)
	if len(before) != 2 {
		t.Fatalf("the stream holds %d events, want 2", len(before))
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := open(t, path, eventstore.Options{})
	after := readAll(t, again, task.ID)
	if len(after) != len(before) {
		t.Fatalf("after reopening, the stream holds %d events, want %d", len(after), len(before))
	}
	for i := range after {
		if after[i].Hash != before[i].Hash || after[i].Position != before[i].Position || string(after[i].Payload) != string(before[i].Payload) {
			t.Errorf("event %d changed across reopen: %+v, was %+v", i, after[i], before[i])
		}
	}
	if head, err := again.FeedHead(t.Context()); err != nil || head != 2 {
		t.Errorf("FeedHead() = %d, %v after reopen; want 2", head, err)
	}
	_, err := again.Append(t.Context(), task, 1, output(3))
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("append at a stale seq after reopen: got %v, want a conflict", err)
	}
	next := appendOK(t, again, task, 2, output(3))[0]
	if next.HashPrev != before[1].Hash || next.Position != 2 {
		t.Errorf("first append after reopen: hash_prev %x, position %d; want %x, 2", next.HashPrev, next.Position, before[1].Hash)
	}
}

// TestHeadCacheNotTrusted has two stores write one file (as two processes
// would), so that a's cached head falls behind. An append at the stale head
// ends in a conflict, not a forked chain; an append at the real head
// succeeds although the cache disagrees; the chain stays whole.
func TestHeadCacheNotTrusted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	a := open(t, path, eventstore.Options{})
	b := open(t, path, eventstore.Options{})

	appendOK(t, a, task, 0, output(1)) // a caches head seq 1
	fromB := appendOK(t, b, task, 1, output(2))[0]
	_, err := a.Append(t.Context(), task, 1, output(3))
	var conflict *eventstore.ConflictError
	if !errors.As(err, &conflict) || conflict.Actual != 2 {
		t.Fatalf("append at a's stale cached head: got %v, want a conflict at actual seq 2", err)
	}
	checkContinues(t, appendOK(t, a, task, 2, output(3))[0], fromB) // a caches head seq 3

	fromB = appendOK(t, b, task, 3, output(4))[0]
	checkContinues(t, appendOK(t, a, task, 4, output(5))[0], fromB)

	events := readAll(t, b, task.ID)
	if len(events) != 5 {
		t.Fatalf("the stream holds %d events, want 5", len(events))
	}
	for i, e := range events {
		if e.Seq != int64(i)+1 || e.Position != int64(i) || integrity.EntryHash(&e) != e.Hash || (i > 0 && e.HashPrev != events[i-1].Hash) {
			t.Errorf("chain broken at seq %d", e.Seq)
		}
	}
}

// checkContinues fails unless next directly follows prev in its stream and the feed.
func checkContinues(t *testing.T, next, prev domain.Event) {
	t.Helper()
	if next.Seq != prev.Seq+1 || next.HashPrev != prev.Hash || next.Position != prev.Position+1 {
		t.Errorf("seq %d (position %d, hash_prev %x) does not follow seq %d (position %d, hash %x)",
			next.Seq, next.Position, next.HashPrev, prev.Seq, prev.Position, prev.Hash)
	}
}

// TestWaitFeedSeesOtherWriters: an append by another store on the same file
// (another process) wakes WaitFeed through the fallback poll.
func TestWaitFeedSeesOtherWriters(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	waiter := open(t, path, eventstore.Options{})
	writer := open(t, path, eventstore.Options{})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	woken := make(chan error, 1)
	go func() { woken <- waiter.WaitFeed(ctx, 0) }()
	sqlite.WaitBlocked(t, waiter, 1)
	appendOK(t, writer, task, 0, output(1))
	if err := <-woken; err != nil {
		t.Fatalf("WaitFeed for another store's append: %v", err)
	}
}

// TestMigrationsIdempotent opens the same file repeatedly and at once: each
// migration is applied exactly once.
func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	open(t, path, eventstore.Options{})
	done := make(chan error, 3)
	for range 3 {
		go func() {
			s, err := sqlite.Open(t.Context(), path, eventstore.Options{})
			if err == nil {
				err = s.Close()
			}
			done <- err
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatalf("reopen: %v", err)
		}
	}
	var rows, distinct int
	if err := openRaw(t, path).QueryRowContext(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != distinct || rows == 0 {
		t.Errorf("schema_migrations holds %d rows for %d versions; want one row per migration", rows, distinct)
	}
}

// TestNewerSchemaRefused: a file migrated by a newer build is not opened.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path, eventstore.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := openRaw(t, path).ExecContext(t.Context(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlite.Open(t.Context(), path, eventstore.Options{}); err == nil {
		_ = s.Close()
		t.Fatal("Open succeeded on a file with a newer schema")
	}
}

// TestTamperedPayloadReadAsIs: a payload changed in the file is read back
// changed; the store hides nothing, and the digest exposes it.
func TestTamperedPayloadReadAsIs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path, eventstore.Options{})
	stored := appendOK(t, s, task, 0, output(1))[0]

	raw := openRaw(t, path)
	tampered := []byte(`{"data":"forged","offset":0,"stream":"stdout"}`)
	if _, err := raw.ExecContext(context.Background(), `UPDATE events SET payload = ? WHERE event_id = ?`, tampered, stored.EventID.String()); err == nil {
		t.Fatal("the append-only trigger let a payload be rewritten")
	}
	// Someone who can write the file can drop the guard too.
	if _, err := raw.ExecContext(context.Background(), `DROP TRIGGER events_prune_only`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(context.Background(), `UPDATE events SET payload = ? WHERE event_id = ?`, tampered, stored.EventID.String()); err != nil {
		t.Fatal(err)
	}

	got := readFirst(t, s, task.ID)
	if string(got.Payload) != string(tampered) {
		t.Fatalf("payload read back as %s, want the tampered bytes %s", got.Payload, tampered)
	}
	if integrity.PayloadDigest(got.PayloadSalt, got.Payload) == got.PayloadDigest {
		t.Error("the tampered payload still matches its digest")
	}
	if got.PayloadDigest != stored.PayloadDigest || got.Hash != stored.Hash {
		t.Error("digest or hash changed along with the payload")
	}
}

// TestPrunedPayload: the schema allows pruning a payload with its salt, and
// the store reads the event back with both nil.
func TestPrunedPayload(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := open(t, path, eventstore.Options{})
	stored := appendOK(t, s, task, 0, output(1))[0]
	raw := openRaw(t, path)
	if _, err := raw.ExecContext(context.Background(), `UPDATE events SET payload = NULL, payload_salt = NULL WHERE event_id = ?`, stored.EventID.String()); err != nil {
		t.Fatalf("prune: %v", err)
	}
	if _, err := raw.ExecContext(context.Background(), `DELETE FROM events`); err == nil {
		t.Error("the append-only trigger let events be deleted")
	}
	got := readFirst(t, s, task.ID)
	if got.Payload != nil || got.PayloadSalt != nil || got.Hash != stored.Hash || integrity.EntryHash(&got) != got.Hash {
		t.Errorf("pruned event read back as payload %q, salt %x, hash %x; want nil, nil and the stored hash", got.Payload, got.PayloadSalt, got.Hash)
	}
}

// TestRetryFromAnotherStore: an append retried through another store on the
// same file (a restarted process) is still a no-op.
func TestRetryFromAnotherStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	a := open(t, path, eventstore.Options{})
	b := open(t, path, eventstore.Options{})
	events := output(1)
	first := appendOK(t, a, task, 0, events)[0]
	again := appendOK(t, b, task, 0, events)[0]
	if again.Hash != first.Hash || again.Position != first.Position {
		t.Errorf("retry returned %+v, want the stored %+v", again, first)
	}
	if head, err := b.FeedHead(t.Context()); err != nil || head != 1 {
		t.Errorf("FeedHead() = %d, %v; want 1", head, err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "events.db"), eventstore.Options{}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), eventstore.Options{MaxReadLimit: -1}); err == nil {
		t.Error("Open with a negative limit succeeded")
	}
}

// TestPutLeaseWithinAcrossStores: of 20 calls at once for 20 tasks of one
// tenant, spread over two stores on one file (two processes), with a
// limit of 3, exactly 3 succeed.
func TestPutLeaseWithinAcrossStores(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	stores := []*sqlite.Store{open(t, path, eventstore.Options{}), open(t, path, eventstore.Options{})}
	const callers, limit = 20, 3
	expires := time.Now().Add(time.Minute)
	errs := make(chan error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		s := stores[i%len(stores)]
		l := eventstore.Lease{TaskID: fmt.Sprintf("task-%d", i), TenantID: "tenant-1", WorkerID: fmt.Sprintf("w%d", i%len(stores)), Attempt: 1, ExpiresAt: expires}
		wg.Go(func() {
			<-start
			errs <- s.LeasePutWithin(t.Context(), l, limit)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	granted := 0
	for err := range errs {
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, eventstore.ErrTenantAtLimit):
			t.Fatalf("LeasePutWithin: %v", err)
		}
	}
	var stored int
	if err := openRaw(t, path).QueryRowContext(t.Context(), `SELECT count(*) FROM task_leases WHERE tenant_id = 'tenant-1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if granted != limit || stored != limit {
		t.Fatalf("%d leases granted and %d stored, want %d", granted, stored, limit)
	}
}
