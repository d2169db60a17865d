package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// appendInTx writes a prepared batch inside tx, as Append would, so a test
// can hold the transaction open and decide when it commits.
func appendInTx(t *testing.T, s *Store, tx pgx.Tx, stream eventstore.Stream, n int) []domain.Event {
	t.Helper()
	prepared, err := eventstore.Prepare(stream, 0, domain.ZeroHash, outputEvents(n, 0), s.cfg.Options)
	if err != nil {
		t.Fatal(err)
	}
	if err := insertInTx(context.Background(), s, tx, stream, prepared); err != nil {
		t.Fatal(err)
	}
	return prepared
}

// insertInTx inserts events prepared at the head of a new stream inside
// tx, as Append's insert does.
func insertInTx(ctx context.Context, s *Store, tx pgx.Tx, stream eventstore.Stream, prepared []domain.Event) error {
	errs, err := s.insert(ctx, tx, []*part{{StreamAppend: eventstore.StreamAppend{Stream: stream}, prepared: prepared}})
	return errors.Join(errs[0], err)
}

// openSealedOne opens a store whose feed holds one sealed event, so that
// the feed is not empty and the sealer's cursor is past an append.
func openSealedOne(t *testing.T) *Store {
	t.Helper()
	s, _ := openStore(t, Config{})
	if _, err := s.Append(t.Context(), taskStream("t"), 0, outputEvents(1, 0)); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, s, 1)
	return s
}

// A transaction that started writing first but commits last must not be
// skipped: the feed waits for it, then shows every event exactly once,
// densely, with each stream in seq order.
func TestFeedWaitsForTransactionThatCommitsLast(t *testing.T) {
	t.Parallel()
	s := openSealedOne(t)
	ctx := context.Background()

	slow, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = slow.Rollback(ctx) }()
	slowStream := taskStream("t")
	slowEvents := appendInTx(t, s, slow, slowStream, 3) // takes its xid first

	fastStream := taskStream("t")
	fastEvents, err := s.Append(ctx, fastStream, 0, outputEvents(2, 0)) // commits first
	if err != nil {
		t.Fatal(err)
	}

	// The fast events are committed, but sealing them now would let a reader
	// pass positions the slow transaction still needs: the feed must wait.
	waitCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := s.WaitFeed(waitCtx, 1); err == nil {
		t.Fatalf("feed advanced past an open transaction: head %d", mustHead(t, s))
	}

	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, s, 6)
	feed := readWholeFeed(t, s)
	if len(feed) != 6 {
		t.Fatalf("feed has %d events, want 6", len(feed))
	}
	want := map[uuid.UUID]bool{}
	for _, e := range append(slowEvents, fastEvents...) {
		want[e.EventID] = true
	}
	for i, e := range feed[1:] {
		if e.Position != int64(i+1) {
			t.Fatalf("position %d at index %d", e.Position, i+1)
		}
		if !want[e.EventID] {
			t.Fatalf("unexpected or repeated event %s at %d", e.EventID, e.Position)
		}
		delete(want, e.EventID)
	}
	assertStreamsInOrder(t, feed)
}

// The sealer's blocked check answers true only for a committed append
// past its cursor: not for the uncommitted appends of an open transaction
// (a batch start's, many of them), and yes for one committed behind it.
func TestSealerBlockedSeesOnlyCommittedAppends(t *testing.T) {
	t.Parallel()
	s := openSealedOne(t)
	ctx := context.Background()
	cur, err := s.q.SealerStateGet(ctx, s.pool)
	if err != nil {
		t.Fatal(err)
	}
	blocked := func() bool {
		t.Helper()
		b, err := s.q.SealerBlocked(ctx, s.pool, dbsqlc.SealerBlockedParams{LastXid: cur.LastXid, LastID: cur.LastID})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	open, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = open.Rollback(ctx) }()
	const openAppends = 20
	for range openAppends {
		appendInTx(t, s, open, taskStream("t"), 1)
	}
	if blocked() {
		t.Fatal("blocked with only uncommitted appends past the cursor")
	}
	if _, err := s.Append(ctx, taskStream("t"), 0, outputEvents(1, 0)); err != nil {
		t.Fatal(err)
	}
	if !blocked() {
		t.Fatal("not blocked with a committed append behind an open transaction")
	}
	if err := open.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFeed(t, s, 2+openAppends)
}

// Many writers whose transactions overlap and commit in random order, while a
// reader tails the feed as it grows: the reader sees every event exactly
// once, positions dense, each stream in seq order.
func TestFeedTailedDuringOutOfOrderCommits(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{})
	ctx := context.Background()
	const writers, txPerWriter, perTx = 6, 15, 3
	total := int64(writers * txPerWriter * perTx)

	seen := make(chan []domain.Event, 1)
	go func() {
		var got []domain.Event
		for int64(len(got)) < total {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := s.WaitFeed(wctx, int64(len(got)))
			cancel()
			if err != nil {
				break
			}
			page, err := s.ReadFeed(ctx, int64(len(got)), 100)
			if err != nil {
				break
			}
			got = append(got, page...)
		}
		seen <- got
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range txPerWriter {
				err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
					stream := taskStream("t")
					p, err := eventstore.Prepare(stream, 0, domain.ZeroHash, outputEvents(perTx, 0), s.cfg.Options)
					if err != nil {
						return err
					}
					if err := insertInTx(ctx, s, tx, stream, p); err != nil {
						return err
					}
					time.Sleep(time.Duration(rng.IntN(8)) * time.Millisecond) // commit later, in random order
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				s.nudgeSealer()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := <-seen
	if int64(len(got)) != total {
		t.Fatalf("reader saw %d events, want %d", len(got), total)
	}
	ids := map[uuid.UUID]bool{}
	for i, e := range got {
		if e.Position != int64(i) {
			t.Fatalf("index %d has position %d", i, e.Position)
		}
		if ids[e.EventID] {
			t.Fatalf("event %s seen twice", e.EventID)
		}
		ids[e.EventID] = true
	}
	assertStreamsInOrder(t, got)
	if again := readWholeFeed(t, s); fmt.Sprint(eventIDs(again)) != fmt.Sprint(eventIDs(got)) {
		t.Fatal("the feed read afterwards differs from what the tailing reader saw")
	}
}

func assertStreamsInOrder(t *testing.T, feed []domain.Event) {
	t.Helper()
	last := map[string]int64{}
	for _, e := range feed {
		if e.Seq != last[e.StreamID]+1 {
			t.Fatalf("stream %s: seq %d follows %d in the feed", e.StreamID, e.Seq, last[e.StreamID])
		}
		last[e.StreamID] = e.Seq
	}
}

func eventIDs(events []domain.Event) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.EventID
	}
	return out
}

func mustHead(t *testing.T, s *Store) int64 {
	t.Helper()
	h, err := s.FeedHead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}
