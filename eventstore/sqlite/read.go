package sqlite

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

// ReadLimit implements eventstore.ReadLimiter.
func (s *Store) ReadLimit() int { return s.opts.MaxReadLimit }

// ReadStream implements eventstore.Store. limit is clamped to
// Options.MaxReadLimit (a limit <= 0 reads that many). A negative afterSeq
// fails with a *domain.ValidationError.
func (s *Store) ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read stream %s: %w", streamID, eventstore.ErrClosed)
	}
	if afterSeq < 0 {
		return nil, fmt.Errorf("read stream %s: %w", streamID, &domain.ValidationError{Field: "after_seq", Reason: "must not be negative"})
	}
	events, err := eventsOf(s.q.StreamRead(ctx, s.rdb, dbsqlc.StreamReadParams{
		StreamID: streamID, AfterSeq: afterSeq, MaxEvents: int64(engine.ClampLimit(s.opts, limit)),
	}))
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, s.closedOr(err))
	}
	return events, nil
}

// ReadFeed implements eventstore.Store. Every event that Append has returned
// is readable; positions never change. limit is clamped as in ReadStream; a
// negative from fails with a *domain.ValidationError. What the process's
// feed cache holds from from on comes from memory; only the rest is read.
func (s *Store) ReadFeed(ctx context.Context, from int64, limit int) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read feed: %w", eventstore.ErrClosed)
	}
	n, err := engine.FeedReadLimit(s.opts, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read feed: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	return s.feedCache.ReadThrough(ctx, from, n, func(from int64, n int) ([]domain.Event, error) {
		events, err := eventsOf(s.q.FeedRead(ctx, s.rdb, dbsqlc.FeedReadParams{FromPosition: from, MaxEvents: int64(n)}))
		if err != nil {
			return nil, fmt.Errorf("read feed from %d: %w", from, s.closedOr(err))
		}
		return events, nil
	})
}

// FeedHead implements eventstore.Store. It reads the file, so it sees what
// other processes appended too.
func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("read feed head: %w", eventstore.ErrClosed)
	}
	head, err := s.q.FeedHead(ctx, s.rdb)
	if err != nil {
		return 0, fmt.Errorf("read feed head: %w", s.closedOr(err))
	}
	s.feed.Advance(head)
	return head, nil
}
