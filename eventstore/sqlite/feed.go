package sqlite

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// feedPollInterval is how often, while some WaitFeed call waits, the store
// reads the feed head for events that another process appended to the file
// (this Store's own appends wake waiters at once).
const feedPollInterval = time.Second

// feedSignal tells WaitFeed calls that the feed has grown, without polling:
// a channel that is closed, and replaced, whenever the known head grows.
type feedSignal struct {
	head    atomic.Int64 // the largest feed head seen (own commits and reads)
	waiters atomic.Int64 // WaitFeed calls in progress; the poller reads only for them

	mu    sync.Mutex
	grown chan struct{}
}

func newFeedSignal() feedSignal {
	return feedSignal{grown: make(chan struct{})}
}

// wait returns a channel that is closed once the head grows past its value
// at the time of the call. Take it before reading head, so no growth is missed.
func (f *feedSignal) wait() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grown
}

// advance records that the feed holds head events and, if that is news,
// wakes every waiter. head is stored before the wake-up, so a woken waiter
// sees it.
func (f *feedSignal) advance(head int64) {
	for {
		cur := f.head.Load()
		if head <= cur {
			return
		}
		if f.head.CompareAndSwap(cur, head) {
			break
		}
	}
	f.mu.Lock()
	close(f.grown)
	f.grown = make(chan struct{})
	f.mu.Unlock()
}

// WaitFeed implements eventstore.Store. It returns nil once the feed holds
// position pos, ctx's error (wrapped) when ctx ends first, and ErrClosed when
// the store closes. Appends through this Store wake it at once; appends by
// another process are seen within about feedPollInterval. A negative pos
// fails with a *domain.ValidationError.
func (s *Store) WaitFeed(ctx context.Context, pos int64) error {
	if s.closed.Load() {
		return fmt.Errorf("wait for feed position %d: %w", pos, eventstore.ErrClosed)
	}
	if pos < 0 {
		return fmt.Errorf("wait for feed position %d: %w", pos, &domain.ValidationError{Field: "pos", Reason: "must not be negative"})
	}
	s.feed.waiters.Add(1)
	defer s.feed.waiters.Add(-1)

	grown := s.feed.wait()
	if s.feed.head.Load() > pos {
		return nil
	}
	// Look at the file once: another process may have appended already.
	head, err := s.FeedHead(ctx)
	if err != nil {
		return fmt.Errorf("wait for feed position %d: %w", pos, err)
	}
	for head <= pos {
		select {
		case <-grown:
		case <-ctx.Done():
			return fmt.Errorf("wait for feed position %d: %w", pos, ctx.Err())
		case <-s.done:
			return fmt.Errorf("wait for feed position %d: %w", pos, eventstore.ErrClosed)
		}
		grown = s.feed.wait()
		head = s.feed.head.Load()
	}
	return nil
}

// pollFeed reads the feed head every interval while anyone waits, and
// wakes the waiters when another process has appended. It stops when ctx ends.
func (s *Store) pollFeed(ctx context.Context, interval time.Duration) {
	defer s.polling.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if s.feed.waiters.Load() == 0 {
			continue
		}
		if _, err := s.FeedHead(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("event store: poll feed head", "err", err)
		}
	}
}
