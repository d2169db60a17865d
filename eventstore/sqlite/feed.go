package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/broadcast"
)

// feedPollInterval is how often, while some WaitFeed call waits, the store
// reads the feed head for events that another process appended to the file
// (this Store's own appends wake waiters at once).
const feedPollInterval = time.Second

// feedSignal tells WaitFeed calls that the feed has grown, without polling.
type feedSignal struct {
	broadcast.Head              // the largest feed head seen (own commits and reads)
	waiters        atomic.Int64 // WaitFeed calls blocked for a later position; the poller reads only for them
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
	grown := s.feed.Wait()
	if s.feed.Load() > pos {
		return nil
	}
	// Look at the file once: another process may have appended already.
	head, err := s.FeedHead(ctx)
	if err != nil {
		return fmt.Errorf("wait for feed position %d: %w", pos, err)
	}
	if head > pos {
		return nil
	}
	// Counted only from here, the call is known to hold grown and to have
	// seen the feed short of pos: every later growth wakes it.
	s.feed.waiters.Add(1)
	defer s.feed.waiters.Add(-1)
	for head <= pos {
		select {
		case <-grown:
		case <-ctx.Done():
			return fmt.Errorf("wait for feed position %d: %w", pos, ctx.Err())
		case <-s.done:
			return fmt.Errorf("wait for feed position %d: %w", pos, eventstore.ErrClosed)
		}
		grown = s.feed.Wait()
		head = s.feed.Load()
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
