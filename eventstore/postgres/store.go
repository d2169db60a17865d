package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/internal/broadcast"
)

// Config configures a Postgres store. The zero value (plus a URL) is usable.
type Config struct {
	eventstore.Options
	// DisableSealer keeps this store out of the sealer election. At least one
	// process on the database must run a sealer, or the feed never advances.
	DisableSealer bool
	// SealBatch bounds the appends one sealing transaction positions (default 1000).
	SealBatch int
	// SealInterval is the pause after a sealing transaction that found work,
	// so that under load one transaction and one WAL flush cover many
	// appends (default 5 ms). An idle sealer seals the next append at once.
	SealInterval time.Duration
	// IdleInTransactionTimeout ends this store's sessions that sit idle inside
	// a transaction, which would hold the feed back (default 30 s).
	IdleInTransactionTimeout time.Duration
	// MaxConns bounds the connection pool (default 16).
	MaxConns int32
	// GroupCommits bounds the group commits in flight at once, of appends
	// and, apart, of task start reservations and of leases taken within a
	// tenant's limit (default 2 each): a write that
	// finds this many running waits for the first to finish and commits
	// with the writes queued meanwhile.
	GroupCommits int
	// GroupCommitAppends bounds the writes one group commit takes
	// (default 500).
	GroupCommitAppends int
}

func (c Config) withDefaults() Config {
	c.Options = c.WithDefaults()
	if c.SealBatch <= 0 {
		c.SealBatch = 1000
	}
	if c.SealInterval <= 0 {
		c.SealInterval = 5 * time.Millisecond
	}
	if c.IdleInTransactionTimeout <= 0 {
		c.IdleInTransactionTimeout = 30 * time.Second
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 16
	}
	if c.GroupCommits <= 0 {
		c.GroupCommits = 2
	}
	if c.GroupCommitAppends <= 0 {
		c.GroupCommitAppends = 500
	}
	return c
}

// Store is the Postgres event store. It is safe for concurrent use; any
// number of Stores in any number of processes may share one database.
type Store struct {
	cfg    Config
	pool   *pgxpool.Pool
	q      *dbsqlc.Queries
	heads  *headCache
	group  *committer[*part]        // appends
	starts *committer[*reservation] // task start reservations
	leases *committer[*leasePut]    // leases taken within a tenant's limit
	closed atomic.Bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
	leader atomic.Bool
	head   broadcast.Head // highest feed head seen (next position to seal)
	// feedCache keeps the newest stretch of the feed read, which the
	// process's feed consumers share.
	feedCache *engine.FeedCache
	// indexed is the highest tenant feed index checkpoint seen (the next
	// position the index applies): TenantFeedWait waits on it.
	indexed broadcast.Head

	sealNudge   chan struct{} // wakes this process's sealer
	remoteNudge chan struct{} // asks the notifier goroutine to wake a remote sealer

	// testHookBeforeSealCommit, when set, runs inside a sealing transaction
	// after the ledger rows are written and before COMMIT, with the sealing
	// connection's backend pid.
	testHookBeforeSealCommit func(pid uint32)
}

var (
	_ eventstore.Store         = (*Store)(nil)
	_ eventstore.BatchAppender = (*Store)(nil)
	_ eventstore.ReadLimiter   = (*Store)(nil)
)

// Open connects to databaseURL, applies pending migrations and starts the
// store's background work (sealer election and the LISTEN connection).
func Open(ctx context.Context, databaseURL string, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pcfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pcfg.MaxConns = cfg.MaxConns
	pcfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(cfg.IdleInTransactionTimeout.Milliseconds(), 10)
	// Appends are acknowledged only once durable, whatever the database's or
	// role's default; the sealer's asynchronous commits rely on it (sealBatch).
	pcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	if pcfg.ConnConfig.RuntimeParams["application_name"] == "" {
		pcfg.ConnConfig.RuntimeParams["application_name"] = "axontask"
	}
	// Every query of the store is a probe of an index. A parallel plan
	// only adds its workers' start: a tenant's feed read of 1,000 events
	// took 127 ms with two workers and 3.1 ms without, at a million events.
	// The database URL may still ask for them.
	if _, set := pcfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"]; !set {
		pcfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	}
	pcfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		// Encode uuid.UUID in binary; by default pgx goes through its text form.
		pgxuuid.Register(conn.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	if err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:         cfg,
		pool:        pool,
		q:           dbsqlc.New(),
		heads:       newHeadCache(10000),
		feedCache:   engine.NewFeedCache(cfg.FeedCacheEvents, nil),
		cancel:      cancel,
		sealNudge:   make(chan struct{}, 1),
		remoteNudge: make(chan struct{}, 1),
	}
	s.group = &committer[*part]{maxInFlight: cfg.GroupCommits, maxItems: cfg.GroupCommitAppends, write: s.writeParts}
	s.starts = &committer[*reservation]{maxInFlight: cfg.GroupCommits, maxItems: cfg.GroupCommitAppends, write: s.writeReservations}
	s.leases = &committer[*leasePut]{maxInFlight: cfg.GroupCommits, maxItems: cfg.GroupCommitAppends, write: s.writeLeasePuts}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.listen(bg, pcfg.ConnConfig) }()
	go func() { defer s.wg.Done(); s.notifyRemote(bg) }()
	if !cfg.DisableSealer {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.runSealer(bg) }()
	}
	return s, nil
}

// Pool returns the store's connection pool, for packages that keep read
// models in the same database.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close stops the sealer and listener and closes the pool.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
	s.head.Wake()
	s.indexed.Wake()
	return nil
}

// appendParams builds the insert of events chained after the stream head
// (prevSeq, prevHash), which the insert checks.
func appendParams(stream eventstore.Stream, prevSeq int64, prevHash domain.Hash, events []domain.Event) dbsqlc.EventsAppendParams {
	n := len(events)
	p := dbsqlc.EventsAppendParams{
		PrevSeq:        prevSeq,
		PrevHash:       prevHash[:],
		StreamID:       stream.ID,
		StreamType:     string(stream.Type),
		TenantID:       stream.TenantID,
		EventIds:       make([]uuid.UUID, n),
		Seqs:           make([]int64, n),
		Types:          make([]string, n),
		Payloads:       make([][]byte, n),
		PayloadSalts:   make([][]byte, n),
		PayloadDigests: make([][]byte, n),
		Metadata:       make([][]byte, n),
		OccurredAts:    make([]time.Time, n),
		HashPrevs:      make([][]byte, n),
		Hashes:         make([][]byte, n),
	}
	for i := range events {
		e := &events[i]
		p.EventIds[i] = e.EventID
		p.Seqs[i] = e.Seq
		p.Types[i] = string(e.Type)
		p.Payloads[i] = e.Payload
		p.PayloadSalts[i] = e.PayloadSalt
		p.PayloadDigests[i] = e.PayloadDigest[:]
		p.Metadata[i] = marshalMetadata(e.Metadata)
		p.OccurredAts[i] = e.OccurredAt
		p.HashPrevs[i] = e.HashPrev[:]
		p.Hashes[i] = e.Hash[:]
	}
	return p
}

func marshalMetadata(m domain.Metadata) []byte {
	if m == (domain.Metadata{}) {
		return []byte("{}")
	}
	b, _ := json.Marshal(m) // a struct of strings always marshals
	return b
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	if afterSeq < 0 {
		return nil, &domain.ValidationError{Field: "after_seq", Reason: "must not be negative"}
	}
	rows, err := s.q.StreamRead(ctx, s.pool, dbsqlc.StreamReadParams{
		StreamID: streamID, AfterSeq: afterSeq, MaxEvents: int32(engine.ClampLimit(s.cfg.Options, limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	out := make([]domain.Event, len(rows))
	for i, r := range rows {
		if out[i], err = toEvent(r.Event, r.Position); err != nil {
			return nil, err
		}
	}
	if n := len(out); n > 0 {
		// The last event read is a committed head, or was one: an append
		// that follows the read (a worker's claim after catching up)
		// chains to it without reading it again.
		last := &out[n-1]
		s.heads.advance(streamID, engine.Head{Seq: last.Seq, Hash: last.Hash, TenantID: last.TenantID, StreamType: last.StreamType})
	}
	return out, nil
}

// ReadLimit implements eventstore.ReadLimiter.
func (s *Store) ReadLimit() int { return s.cfg.MaxReadLimit }

// ReadFeed implements eventstore.Store. What the process's feed cache
// holds from from on comes from memory; only the rest is read.
func (s *Store) ReadFeed(ctx context.Context, from int64, limit int) ([]domain.Event, error) {
	if s.closed.Load() {
		return nil, eventstore.ErrClosed
	}
	n, err := engine.FeedReadLimit(s.cfg.Options, from, limit)
	if n == 0 || err != nil {
		return nil, err
	}
	return s.feedCache.ReadThrough(ctx, from, n, func(from int64, n int) ([]domain.Event, error) {
		rows, err := s.q.FeedRead(ctx, s.pool, dbsqlc.FeedReadParams{FromPosition: from, MaxEvents: int32(n)})
		if err != nil {
			return nil, fmt.Errorf("read feed from %d: %w", from, err)
		}
		out := make([]domain.Event, len(rows))
		for i := range rows {
			r := &rows[i]
			e := dbsqlc.Event{EventID: r.EventID, StreamID: r.StreamID, StreamType: r.StreamType, Seq: r.Seq, TenantID: r.TenantID,
				Type: r.Type, Payload: r.Payload, PayloadSalt: r.PayloadSalt, PayloadDigest: r.PayloadDigest, Metadata: r.Metadata,
				OccurredAt: r.OccurredAt, HashPrev: r.HashPrev, Hash: r.Hash}
			if out[i], err = toEvent(e, r.Position); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// FeedHead implements eventstore.Store.
func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	if s.closed.Load() {
		return 0, eventstore.ErrClosed
	}
	h, err := s.q.FeedHead(ctx, s.pool)
	if err != nil {
		return 0, fmt.Errorf("read feed head: %w", err)
	}
	s.observeHead(h)
	return h, nil
}

// WaitFeed implements eventstore.Store. It wakes on the sealer's NOTIFY (or,
// in the sealer's own process, directly) and re-reads the head from the
// database at most once a second as a safety net.
func (s *Store) WaitFeed(ctx context.Context, pos int64) error {
	const recheck = time.Second
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wake := s.head.Wait() // before the checks, so Close's wake-up is never missed
		if s.closed.Load() {
			return eventstore.ErrClosed
		}
		if s.head.Load() > pos {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-timer.C:
			h, err := s.FeedHead(ctx)
			if err != nil && ctx.Err() == nil && !s.closed.Load() {
				s.cfg.Logger.Warn("event store: read feed head", "err", err)
			}
			if err == nil && h > pos {
				return nil
			}
			timer.Reset(recheck)
		}
	}
}

// observeHead records a feed head seen anywhere and wakes waiters if it moved.
func (s *Store) observeHead(h int64) { s.head.Advance(h) }

func toEvent(r dbsqlc.Event, pos int64) (domain.Event, error) {
	e := domain.Event{
		Position:    pos,
		EventID:     r.EventID,
		StreamID:    r.StreamID,
		StreamType:  domain.StreamType(r.StreamType),
		Seq:         r.Seq,
		TenantID:    r.TenantID,
		Type:        domain.EventType(r.Type),
		Payload:     r.Payload,
		PayloadSalt: r.PayloadSalt,
		OccurredAt:  r.OccurredAt.UTC(),
	}
	copy(e.PayloadDigest[:], r.PayloadDigest)
	copy(e.HashPrev[:], r.HashPrev)
	copy(e.Hash[:], r.Hash)
	if err := json.Unmarshal(r.Metadata, &e.Metadata); err != nil {
		return domain.Event{}, fmt.Errorf("decode metadata of %s seq %d: %w", r.StreamID, r.Seq, err)
	}
	return e, nil
}
