package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/axontask/axontask/eventstore/internal/engine"
)

// groupCommitTimeout bounds one group commit: it does not run under any
// one caller's context, since it commits other callers' appends too.
const groupCommitTimeout = 30 * time.Second

// committer commits Appends of many streams together: the classic group
// commit. An append that finds fewer than maxInFlight commits in flight
// commits at once, in its own goroutine, with whatever else is queued;
// one that finds them all busy queues, and the first of them to finish
// takes the queue (at most maxParts appends) into its next commit. So a
// lone append never waits, and under load one commit, one round trip and
// one WAL flush serve many appends. Each append keeps its own expected
// seq, chain and outcome: a head that moved fails only its own append.
type committer struct {
	s           *Store
	maxInFlight int
	maxParts    int

	mu       sync.Mutex
	queue    []*commitRequest
	inFlight int

	// testHookBeforeWrite, when set, runs before each group commit with
	// its count of appends.
	testHookBeforeWrite func(appends int)
}

// commitRequest is one queued append and, once done is closed, its outcome.
type commitRequest struct {
	p    *part
	err  error
	done chan struct{}
}

// commit commits p, alone or with others, and returns the outcome of its
// insert (see Store.insert). When ctx ends first it returns ctx's error,
// and the append may still commit: the caller cannot tell, as with any
// lost connection.
func (c *committer) commit(ctx context.Context, p *part) error {
	r := &commitRequest{p: p, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, r)
	var batch []*commitRequest
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
		return ctx.Err()
	}
}

// takeLocked takes up to maxParts queued requests. The caller holds mu.
func (c *committer) takeLocked() []*commitRequest {
	n := min(len(c.queue), c.maxParts)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return batch
}

// run commits batch, then hands its slot to what queued meanwhile, in a
// goroutine of its own, so that the caller returns with its outcome at once.
func (c *committer) run(batch []*commitRequest) {
	c.write(batch)
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

// write commits batch in one round trip and sets each request's outcome.
// A statement that fails aborts the whole transaction, so then each
// request is written again alone, to fail only its own append.
func (c *committer) write(batch []*commitRequest) {
	if c.testHookBeforeWrite != nil {
		c.testHookBeforeWrite(len(batch))
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupCommitTimeout)
	defer cancel()
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	parts := make([]*part, len(batch))
	for i, r := range batch {
		parts[i] = r.p
	}
	errs, err := c.s.insert(ctx, c.s.pool, parts)
	if len(batch) > 1 && aborted(errs, err) {
		for _, r := range batch {
			errs, err := c.s.insert(ctx, c.s.pool, []*part{r.p})
			r.err = errs[0]
			if r.err == nil {
				r.err = err
			}
			c.observe([]*commitRequest{r})
		}
		return
	}
	for i, r := range batch {
		r.err = errs[i]
		if r.err == nil {
			r.err = err
		}
	}
	c.observe(batch)
}

// observe reports the committed appends of one transaction and wakes the
// sealer for them.
func (c *committer) observe(batch []*commitRequest) {
	appends, events := 0, 0
	for _, r := range batch {
		if r.err == nil {
			appends++
			events += len(r.p.prepared)
		}
	}
	if appends > 0 {
		c.s.nudgeSealer()
		engine.ObserveCommit(c.s.cfg.Options, appends, events)
	}
}
