package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/eventstore/internal/engine"
)

// groupCommitTimeout bounds one group commit: it does not run under any
// one caller's context, since it commits other callers' writes too.
const groupCommitTimeout = 30 * time.Second

// committer commits writes of many callers together: the classic group
// commit. A write that finds fewer than maxInFlight commits in flight
// commits at once, in its caller's goroutine, with whatever else is
// queued; one that finds them all busy queues, and the first of them to
// finish takes the queue (at most maxItems writes) into its next commit.
// So a lone write never waits, and under load one commit, one round trip
// and one WAL flush serve many writes. write commits a group and returns
// each write's own outcome.
type committer[T any] struct {
	maxInFlight int
	maxItems    int
	write       func(ctx context.Context, items []T) []error

	mu       sync.Mutex
	queue    []*commitRequest[T]
	inFlight int

	// testHookBeforeWrite, when set, runs before each group commit with
	// its count of writes.
	testHookBeforeWrite func(writes int)
}

// commitRequest is one queued write and, once done is closed, its outcome.
type commitRequest[T any] struct {
	item T
	err  error
	done chan struct{}
}

// commit commits item, alone or with others, and returns its outcome.
// When ctx ends while item is queued, item leaves the queue, is never
// written, and commit returns ctx's error; once its commit has begun,
// commit waits for its outcome (at most groupCommitTimeout), so that the
// answer is exact (a write that cannot be retried, such as a reservation,
// is then never counted for a caller that was told it failed).
func (c *committer[T]) commit(ctx context.Context, item T) error {
	r := &commitRequest[T]{item: item, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, r)
	var batch []*commitRequest[T]
	if c.inFlight < c.maxInFlight {
		c.inFlight++
		batch = c.takeLocked()
	}
	c.mu.Unlock()
	if batch != nil {
		c.run(batch)
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
	}
	c.mu.Lock()
	if i := slices.Index(c.queue, r); i >= 0 {
		c.queue = slices.Delete(c.queue, i, i+1)
		if len(c.queue) == 0 {
			c.queue = nil
		}
		c.mu.Unlock()
		return ctx.Err()
	}
	c.mu.Unlock()
	<-r.done
	return r.err
}

// takeLocked takes up to maxItems queued requests. The caller holds mu.
func (c *committer[T]) takeLocked() []*commitRequest[T] {
	n := min(len(c.queue), c.maxItems)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return batch
}

// run commits batch, then hands its slot to what queued meanwhile, in a
// goroutine of its own, so that the caller returns with its outcome at once.
func (c *committer[T]) run(batch []*commitRequest[T]) {
	c.commitBatch(batch)
	c.mu.Lock()
	if len(c.queue) == 0 {
		c.inFlight--
		c.mu.Unlock()
		return
	}
	next := c.takeLocked()
	c.mu.Unlock()
	go c.run(next)
}

// commitBatch writes batch and sets each request's outcome.
func (c *committer[T]) commitBatch(batch []*commitRequest[T]) {
	if c.testHookBeforeWrite != nil {
		c.testHookBeforeWrite(len(batch))
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupCommitTimeout)
	defer cancel()
	items := make([]T, len(batch))
	for i, r := range batch {
		items[i] = r.item
	}
	errs := c.write(ctx, items)
	for i, r := range batch {
		r.err = errs[i]
		close(r.done)
	}
}

// writeParts is the write of the appends' committer: the parts in one
// round trip (see Store.insert). A statement that fails aborts the whole
// transaction, so then each part is written again alone, to fail only its
// own append.
func (s *Store) writeParts(ctx context.Context, parts []*part) []error {
	errs, err := s.insert(ctx, s.pool, parts)
	if len(parts) > 1 && aborted(errs, err) {
		for i, p := range parts {
			one, err := s.insert(ctx, s.pool, []*part{p})
			errs[i] = one[0]
			if errs[i] == nil {
				errs[i] = err
			}
			s.observe(parts[i:i+1], errs[i:i+1])
		}
		return errs
	}
	for i := range errs {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	s.observe(parts, errs)
	return errs
}

// observe reports the committed appends of one transaction and wakes the
// sealer for them.
func (s *Store) observe(parts []*part, errs []error) {
	appends, events := 0, 0
	for i, p := range parts {
		if errs[i] == nil {
			appends++
			events += len(p.prepared)
		}
	}
	if appends > 0 {
		s.nudgeSealer()
		engine.ObserveCommit(s.cfg.Options, appends, events)
	}
}

// batchRows is the results of a sqlc :batchone query: a row or an error
// per statement.
type batchRows[R any] interface {
	QueryRow(f func(int, R, error))
	Close() error
}

// writeInOrder is the write of a committer of one statement per item:
// the items' statements (params of each) in one round trip and one
// transaction, sent in the order compare gives (stable), each row handed
// to set. An item whose statement answers no row has pgx.ErrNoRows; any
// other failure aborts the transaction, and then every item has that
// error.
func writeInOrder[T, P, R any](items []T, compare func(a, b T) int, params func(T) P, send func([]P) batchRows[R], set func(T, R)) []error {
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compare(items[a], items[b]) })
	ps := make([]P, len(items))
	for k, i := range order {
		ps[k] = params(items[i])
	}
	errs := make([]error, len(items))
	results := send(ps)
	results.QueryRow(func(k int, row R, err error) {
		i := order[k]
		if errs[i] = err; err == nil {
			set(items[i], row)
		}
	})
	failed := results.Close()
	for _, err := range errs {
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			failed = err
			break
		}
	}
	if failed != nil { // the transaction was rolled back: none is written
		for i := range errs {
			errs[i] = failed
		}
	}
	return errs
}
