package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres"
)

const batchSize = 100

// rawDDL is the events table without the chain's machinery: no appends row
// with its xid stamp, no head check, no sealer, no hashing; the same
// columns, keys and row bytes.
const rawDDL = `CREATE TABLE raw_events (
    event_id uuid NOT NULL UNIQUE, stream_id text NOT NULL, stream_type text NOT NULL,
    seq bigint NOT NULL, tenant_id text NOT NULL, type text NOT NULL, payload bytea,
    payload_salt bytea, payload_digest bytea NOT NULL, metadata jsonb NOT NULL,
    occurred_at timestamptz NOT NULL, hash_prev bytea NOT NULL, hash bytea NOT NULL,
    PRIMARY KEY (stream_id, seq))`

const rawInsert = `INSERT INTO raw_events (event_id, stream_id, stream_type, seq, tenant_id, type, payload,
    payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash)
SELECT unnest($1::uuid[]), $2::text, 'task', unnest($3::bigint[]), 'bench', 'task.output',
       unnest($4::bytea[]), unnest($5::bytea[]), unnest($6::bytea[]), '{}'::jsonb,
       unnest($7::timestamptz[]), unnest($8::bytea[]), unnest($9::bytea[])`

type bench struct {
	cfg   config
	srv   servers // for databases and Redis key spaces of their own
	store *postgres.Store
	pool  *pgxpool.Pool
	// riverRun is River's side of the comparisons, prepared at first use.
	riverRun riverRun
}

func newBench(ctx context.Context, url string, srv servers, cfg config) (*bench, error) {
	s, err := postgres.Open(ctx, url, postgres.Config{})
	if err != nil {
		return nil, err
	}
	if _, err := s.Pool().Exec(ctx, rawDDL); err != nil {
		return nil, fmt.Errorf("create raw table: %w", err)
	}
	return &bench{cfg: cfg, srv: srv, store: s, pool: s.Pool()}, nil
}

func (b *bench) close() {
	b.riverRun.close()
	_ = b.store.Close()
}

// pgVersion names the server's version and whether it syncs to disk.
func (b *bench) pgVersion(ctx context.Context) string {
	var v, fsync string
	if err := b.pool.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('fsync')").Scan(&v, &fsync); err != nil {
		return "PostgreSQL"
	}
	return "PostgreSQL " + strings.Fields(v)[0] + " (fsync " + fsync + ")"
}

// outputPayload is a ~300-byte task.output payload, the size a few lines of
// build output take, written the way a worker writes it.
func outputPayload(i int64) []byte {
	p, err := domain.MarshalPayload(domain.TaskOutput{
		Data:   fmt.Sprintf("%-240s", fmt.Sprintf("[%d] compiling package github.com/example/project/internal/module: ok", i)),
		Offset: i * 260,
		Stream: domain.Stdout,
	})
	if err != nil {
		panic(err) // a struct of strings and ints always marshals
	}
	return p
}

func newEvents(from int64, n int) []domain.NewEvent {
	out := make([]domain.NewEvent, n)
	now := time.Now()
	for i := range out {
		out[i] = domain.NewEvent{EventID: uuid.New(), Type: domain.TaskOutputType, Payload: outputPayload(from + int64(i)), OccurredAt: now}
	}
	return out
}

func benchStream() eventstore.Stream {
	return eventstore.Stream{ID: uuid.NewString(), Type: domain.StreamTask, TenantID: "bench"}
}

// rawRows builds n rows of the same shape and size as the store writes, but
// with random bytes where the store computes salts, digests and hashes:
// nothing is canonicalized or hashed.
func rawRows(stream eventstore.Stream, from int64, n int) []domain.Event {
	out := make([]domain.Event, n)
	now := time.Now()
	var filler [3 * domain.HashSize]byte
	_, _ = rand.Read(filler[:])
	for i := range out {
		out[i] = domain.Event{
			EventID: uuid.New(), StreamID: stream.ID, Seq: from + int64(i) + 1,
			Payload: outputPayload(from + int64(i)), PayloadSalt: filler[:domain.SaltSize], OccurredAt: now,
		}
		copy(out[i].PayloadDigest[:], filler[32:])
		copy(out[i].HashPrev[:], filler[64:])
		copy(out[i].Hash[:], filler[32:])
	}
	return out
}

// rawRound inserts 100-row batches into raw_events for one round and
// returns events/s: the ceiling the store is measured against.
func (b *bench) rawRound(ctx context.Context) (float64, error) {
	stream := benchStream()
	var seq int64
	deadline := time.Now().Add(b.cfg.roundTime)
	start := time.Now()
	for time.Now().Before(deadline) {
		if _, err := b.pool.Exec(ctx, rawInsert, rawArgs(rawRows(stream, seq, batchSize))...); err != nil {
			return 0, fmt.Errorf("raw insert: %w", err)
		}
		seq += batchSize
	}
	return float64(seq) / time.Since(start).Seconds(), nil
}

func rawArgs(p []domain.Event) []any {
	ids := make([]uuid.UUID, len(p))
	seqs := make([]int64, len(p))
	payloads, salts, digests, prevs, hashes := make([][]byte, len(p)), make([][]byte, len(p)), make([][]byte, len(p)), make([][]byte, len(p)), make([][]byte, len(p))
	times := make([]time.Time, len(p))
	for i := range p {
		e := &p[i]
		ids[i], seqs[i], payloads[i], salts[i] = e.EventID, e.Seq, e.Payload, e.PayloadSalt
		digests[i], prevs[i], hashes[i], times[i] = e.PayloadDigest[:], e.HashPrev[:], e.Hash[:], e.OccurredAt
	}
	return []any{ids, p[0].StreamID, seqs, payloads, salts, digests, times, prevs, hashes}
}

// storeRound appends 100-event batches to one stream through the store (hash
// chain, xid stamp, sealer running) for one round and returns events/s.
func (b *bench) storeRound(ctx context.Context, lt *lagTracker) (float64, error) {
	stream := benchStream()
	var seq int64
	deadline := time.Now().Add(b.cfg.roundTime)
	start := time.Now()
	for time.Now().Before(deadline) {
		if _, err := b.store.Append(ctx, stream, seq, newEvents(seq, batchSize)); err != nil {
			return 0, err
		}
		lt.committed(batchSize)
		seq += batchSize
	}
	return float64(seq) / time.Since(start).Seconds(), nil
}

// lagTracker measures how long committed appends take to become readable in
// the feed, cheaply enough not to disturb the run it measures: writers record
// (time, running count) when an append returns, and one goroutine records
// each feed head it sees. An append counts as sealed when the head, less its
// value at the start, reaches the running count. With one writer this is
// exact; with several it can only err low by the width of appends in flight.
type lagTracker struct {
	base    int64
	count   atomic.Int64
	mu      sync.Mutex
	commits []mark
	heads   []mark
}

type mark struct {
	at time.Time
	n  int64
}

// committed records an append of n events that has just returned.
func (l *lagTracker) committed(n int) {
	c := l.count.Add(int64(n))
	now := time.Now()
	l.mu.Lock()
	l.commits = append(l.commits, mark{now, c})
	l.mu.Unlock()
}

// withLag runs fn while tracking the feed head, waits until the sealer has
// caught up, and returns the lag of every append and how long the backlog
// took to drain after fn returned.
func (b *bench) withLag(ctx context.Context, fn func(*lagTracker) error) ([]time.Duration, time.Duration, error) {
	base, err := b.store.FeedHead(ctx)
	if err != nil {
		return nil, 0, err
	}
	l := &lagTracker{base: base}
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for pos := base; ; {
			if err := b.store.WaitFeed(tctx, pos); err != nil {
				return
			}
			h, err := b.store.FeedHead(tctx)
			if err != nil {
				return
			}
			l.sawHead(h)
			pos = h
		}
	}()
	if err := fn(l); err != nil {
		return nil, 0, err
	}
	stop := time.Now()
	target := base + l.count.Load()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := b.store.WaitFeed(wctx, target-1); err != nil {
		return nil, 0, fmt.Errorf("the feed did not catch up within 30 s of the writers stopping: %w", err)
	}
	drain := time.Since(stop)
	h, err := b.store.FeedHead(ctx)
	if err != nil {
		return nil, 0, err
	}
	l.sawHead(h)
	cancel()
	return l.lags(), drain, nil
}

func (l *lagTracker) sawHead(h int64) {
	now := time.Now()
	l.mu.Lock()
	l.heads = append(l.heads, mark{now, h - l.base})
	l.mu.Unlock()
}

// lags pairs every append with the first head that covers it.
func (l *lagTracker) lags() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	sort.Slice(l.heads, func(i, j int) bool { return l.heads[i].at.Before(l.heads[j].at) })
	var out []time.Duration
	h := 0
	for _, c := range l.commits {
		for h < len(l.heads) && l.heads[h].n < c.n {
			h++
		}
		if h == len(l.heads) {
			break
		}
		out = append(out, max(0, l.heads[h].at.Sub(c.at)))
	}
	return out
}

// comparison is the outcome of alternating rounds of a baseline and the store.
type comparison struct {
	raw, store []float64 // events/s per round
	lags       []time.Duration
	drain      time.Duration // the longest backlog drain after a store round
}

// compare alternates rounds of baseline and store (whose appends it tracks
// for sealing lag) and collects their rates.
func (b *bench) compare(ctx context.Context, baseline func() (float64, error), store func(*lagTracker) (float64, error)) (comparison, error) {
	var c comparison
	for range b.cfg.rounds {
		r, err := baseline()
		if err != nil {
			return c, err
		}
		var s float64
		lags, drain, err := b.withLag(ctx, func(lt *lagTracker) error {
			var err error
			s, err = store(lt)
			return err
		})
		if err != nil {
			return c, err
		}
		c.raw, c.store = append(c.raw, r), append(c.store, s)
		c.lags = append(c.lags, lags...)
		c.drain = max(c.drain, drain)
	}
	return c, nil
}

// rows renders a comparison as its baseline, store and lag lines.
func (c comparison) rows(baseline, baselineNote, store, target, storeNote, lag string) []row {
	return []row{
		{baseline, fmt.Sprintf("%.0f events/s", median(c.raw)), "baseline", baselineNote},
		{store, fmt.Sprintf("%.0f events/s = **%.0f %%** of the baseline", median(c.store), 100*medianRatio(c.store, c.raw)), target, storeNote + "; " + ratios(c.store, c.raw)},
		{lag, fmt.Sprintf("p50 %s, p99 %s", percentile(c.lags, 0.5).Round(10*time.Microsecond), percentile(c.lags, 0.99).Round(10*time.Microsecond)),
			"bounded", fmt.Sprintf("backlog drained %s after the writers stopped (longest of the rounds)", c.drain.Round(time.Millisecond))},
	}
}

func (b *bench) batchedAppends(ctx context.Context) ([]row, error) {
	c, err := b.compare(ctx,
		func() (float64, error) { return b.rawRound(ctx) },
		func(lt *lagTracker) (float64, error) { return b.storeRound(ctx, lt) })
	if err != nil {
		return nil, err
	}
	return c.rows(
		"(a) raw batched INSERT, 100 rows/statement, 1 writer", "same columns, keys and row bytes; no chain, no xid, no sealer",
		"(b) store Append, batches of 100 output events (~300 B) to one stream", "≥ 80 % of (a)",
		"hash chain, head check, appends row with xid8, sealer running",
		"(d) sealing lag during (b): append returned → readable in the feed"), nil
}

func (b *bench) concurrentSingleAppends(ctx context.Context) ([]row, error) {
	const writers = 8
	c, err := b.compare(ctx,
		func() (float64, error) { return b.parallel(ctx, writers, b.rawSingle) },
		func(lt *lagTracker) (float64, error) {
			return b.parallel(ctx, writers, func(ctx context.Context, deadline time.Time) (int, error) {
				return b.storeSingle(ctx, deadline, lt)
			})
		})
	if err != nil {
		return nil, err
	}
	return c.rows(
		"raw single-row INSERT, 8 writers", "one commit per event",
		"(c) store Append, 1 event per append, 8 streams at once", "",
		"each append one commit",
		"(d) sealing lag during (c)"), nil
}

// parallel runs writer n times at once for one round and returns the total events/s.
func (b *bench) parallel(ctx context.Context, n int, writer func(context.Context, time.Time) (int, error)) (float64, error) {
	deadline := time.Now().Add(b.cfg.roundTime)
	start := time.Now()
	var total atomic.Int64
	errs := make(chan error, n)
	for range n {
		go func() {
			c, err := writer(ctx, deadline)
			total.Add(int64(c))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

func (b *bench) rawSingle(ctx context.Context, deadline time.Time) (int, error) {
	stream := benchStream()
	var seq int64
	for time.Now().Before(deadline) {
		if _, err := b.pool.Exec(ctx, rawInsert, rawArgs(rawRows(stream, seq, 1))...); err != nil {
			return 0, err
		}
		seq++
	}
	return int(seq), nil
}

func (b *bench) storeSingle(ctx context.Context, deadline time.Time, lt *lagTracker) (int, error) {
	stream := benchStream()
	var seq int64
	for time.Now().Before(deadline) {
		if _, err := b.store.Append(ctx, stream, seq, newEvents(seq, 1)); err != nil {
			return 0, err
		}
		lt.committed(1)
		seq++
	}
	return int(seq), nil
}
