package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// settle gives goroutines time to block before the test acts. Correctness
// never depends on it; it only makes the tests exercise the blocked path.
const settle = 50 * time.Millisecond

// testWaitFeed: WaitFeed returns at once for a position the feed holds, and
// wakes every waiter promptly after an append from another goroutine.
func testWaitFeed(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	appendOK(t, s, stream, 0, outputEvents(0, 1))
	waitFeedLen(t, s, 1)

	const waiters = 5
	woken := make(chan error, waiters)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for range waiters {
		go func() { woken <- s.WaitFeed(ctx, 1) }()
	}
	time.Sleep(settle)
	select {
	case err := <-woken:
		t.Fatalf("WaitFeed(1) returned %v before the feed held position 1", err)
	default:
	}
	appendOK(t, s, stream, 1, outputEvents(1, 1))
	for range waiters {
		if err := receive(t, woken, "WaitFeed after an append"); err != nil {
			t.Errorf("WaitFeed(1) after an append: %v", err)
		}
	}
}

// testWaitFeedCanceled: WaitFeed returns ctx's error when ctx is canceled or
// its deadline passes.
func testWaitFeedCanceled(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	result := make(chan error, 1)
	go func() { result <- s.WaitFeed(ctx, 1000) }()
	time.Sleep(settle)
	cancel()
	if err := receive(t, result, "WaitFeed after cancel"); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFeed after cancel: got %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(t.Context(), settle)
	defer cancel()
	go func() { result <- s.WaitFeed(ctx, 1000) }()
	if err := receive(t, result, "WaitFeed past its deadline"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFeed past its deadline: got %v, want context.DeadlineExceeded", err)
	}
}

// testClose: Close wakes a blocked WaitFeed with ErrClosed, and every later
// call of the log fails with ErrClosed (each port's suite checks its own).
func testClose(t *testing.T, newStore factory) {
	s := newStore(t, eventstore.Options{})
	stream := newStream()
	appendOK(t, s, stream, 0, outputEvents(0, 1))
	waitFeedLen(t, s, 1)

	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	blocked := make(chan error, 1)
	go func() { blocked <- s.WaitFeed(ctx, 1000) }()
	time.Sleep(settle)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := receive(t, blocked, "a WaitFeed blocked during Close"); !errors.Is(err, eventstore.ErrClosed) {
		t.Errorf("WaitFeed blocked during Close: got %v, want ErrClosed", err)
	}

	checkClosedCalls(t, map[string]func() error{
		"Append": func() error {
			_, err := s.Append(ctx, stream, 1, outputEvents(1, 1))
			return err
		},
		"ReadStream": func() error {
			_, err := s.ReadStream(ctx, stream.ID, 0, 10)
			return err
		},
		"ReadFeed": func() error {
			_, err := s.ReadFeed(ctx, 0, 10)
			return err
		},
		"FeedHead": func() error {
			_, err := s.FeedHead(ctx)
			return err
		},
		"WaitFeed(held position)":  func() error { return s.WaitFeed(ctx, 0) },
		"WaitFeed(later position)": func() error { return s.WaitFeed(ctx, 1000) },
		"ListStreams": func() error {
			_, err := s.ListStreams(ctx, tenant, domain.StreamAPIKey, "", 10)
			return err
		},
	})
}

// closedStore returns a store that newStore made and that is closed.
func closedStore[S eventstore.Store](t *testing.T, newStore Opener[S]) S {
	t.Helper()
	s := newStore(t, eventstore.Options{})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return s
}

// checkClosedCalls fails the test unless each of calls, made on a closed
// store, fails with ErrClosed.
func checkClosedCalls(t *testing.T, calls map[string]func() error) {
	t.Helper()
	for name, call := range calls {
		result := make(chan error, 1)
		go func() { result <- call() }()
		if err := receive(t, result, name+" after Close"); !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}
