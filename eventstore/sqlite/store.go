package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlitedriver "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/internal/engine"
	"github.com/axontask/axontask/eventstore/sqlite/internal/dbsqlc"
)

const (
	// driverName is modernc.org/sqlite's database/sql driver.
	driverName = "sqlite"
	// busyTimeout is how long a statement waits for a lock that another
	// process (or another Store on the same file) holds.
	busyTimeout = 5 * time.Second
	// headCacheSize bounds the stream heads kept in memory.
	headCacheSize = 10_000
)

// Store is the embedded event store on one SQLite file. It is safe for
// concurrent use. Appends are serialized on one writer connection; reads run
// concurrently on a read-only pool and see every append that has returned.
type Store struct {
	opts   eventstore.Options
	writer *sql.DB         // exactly one connection
	reader *sql.DB         // read-only connections
	q      *dbsqlc.Queries // generated queries (sql/sqlite/queries)
	rdb    *preparedDB     // runs q's queries on reader
	wdb    *preparedDB     // the append's statements on writer, used through inTx

	// writeSlot holds a token while an append (or Close) owns the writer.
	// heads belongs to the token's holder.
	writeSlot chan struct{}
	heads     map[string]engine.Head

	feed feedSignal
	// feedCache keeps the newest stretch of the feed read, which the
	// process's feed consumers share.
	feedCache *engine.FeedCache
	stopPoll  context.CancelFunc
	polling   sync.WaitGroup

	closed    atomic.Bool
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

var (
	_ eventstore.Store         = (*Store)(nil)
	_ eventstore.BatchAppender = (*Store)(nil)
	_ eventstore.ReadLimiter   = (*Store)(nil)
)

// Open opens (creating it if needed) the event store in the SQLite file at
// path and applies the embedded migrations it lacks. The directory must
// exist. ctx bounds the opening only; the store does not keep it. opts is
// completed with its defaults. Several Stores, in one process or several, may
// open the same file: SQLite serializes their writes and the store stays
// correct (see the package documentation for what that costs).
func Open(ctx context.Context, path string, opts eventstore.Options) (*Store, error) {
	return open(ctx, path, opts, feedPollInterval)
}

// open is Open with the interval of the fallback feed poll.
func open(ctx context.Context, path string, opts eventstore.Options, pollInterval time.Duration) (*Store, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	s := &Store{
		opts:      opts,
		q:         dbsqlc.New(),
		writeSlot: make(chan struct{}, 1),
		heads:     make(map[string]engine.Head),
		feedCache: engine.NewFeedCache(opts.FeedCacheEvents, nil),
		done:      make(chan struct{}),
	}
	if err := s.open(ctx, abs); err != nil {
		return nil, errors.Join(fmt.Errorf("open event store %s: %w", path, err), s.closeDB())
	}
	pollCtx, stop := context.WithCancel(context.Background())
	s.stopPoll = stop
	s.polling.Add(1)
	go s.pollFeed(pollCtx, pollInterval)
	return s, nil
}

// open connects the writer, migrates, then connects the readers: a read-only
// connection cannot create the file or switch it to WAL.
func (s *Store) open(ctx context.Context, path string) error {
	writer, err := sql.Open(driverName, fileURI(path, url.Values{
		"_txlock":       {"immediate"}, // take the write lock at BEGIN, not at the first write
		"_busy_timeout": {strconv.FormatInt(busyTimeout.Milliseconds(), 10)},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"}, // fsync the WAL at every commit: an acknowledged append survives a power cut
		"_foreign_keys": {"1"},
	}))
	if err != nil {
		return err
	}
	s.writer = writer
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	var mode string
	if err := writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %s, not wal: keep the file on a local file system", mode)
	}
	if err := migrateSchema(ctx, writer); err != nil {
		return err
	}
	s.wdb = &preparedDB{db: writer}
	if err := s.wdb.prepare(ctx, dbsqlc.StreamHead, dbsqlc.EventsGetByIDs, dbsqlc.FeedHead, dbsqlc.EventsInsert); err != nil {
		return err
	}

	reader, err := sql.Open(driverName, fileURI(path, url.Values{
		"mode":          {"ro"},
		"_busy_timeout": {strconv.FormatInt(busyTimeout.Milliseconds(), 10)},
	}))
	if err != nil {
		return err
	}
	s.reader = reader
	s.rdb = &preparedDB{db: reader}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	_, err = s.FeedHead(ctx) // also primes the feed signal
	return err
}

// fileURI turns an absolute path into the SQLite URI the driver opens, so
// that SQLite's own parameters (mode=ro) apply and no character of the path
// is taken for a parameter.
func fileURI(path string, params url.Values) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}
	return u.String()
}

// Close waits for the append in progress, stops the feed poller, wakes every
// WaitFeed call with ErrClosed and closes the file. Later calls fail with
// eventstore.ErrClosed. Close is idempotent: later calls return the first
// call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.stopPoll()
		s.polling.Wait()
		s.writeSlot <- struct{}{} // never released: appends see done and fail
		s.closeErr = s.closeDB()
	})
	return s.closeErr
}

// closeDB closes the statements and both pools, readers first.
func (s *Store) closeDB() error {
	var errs []error
	for _, p := range []*preparedDB{s.rdb, s.wdb} {
		if p != nil {
			errs = append(errs, p.close())
		}
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close event store: %w", err)
	}
	return nil
}

// closedOr returns ErrClosed when the store was closed under a call in
// progress (whose error is then database/sql's), and err otherwise.
func (s *Store) closedOr(err error) error {
	if s.closed.Load() {
		return eventstore.ErrClosed
	}
	return err
}

// Append implements eventstore.Store. Appends are serialized; the returned
// events carry their final feed positions. It waits for the writer for as
// long as ctx allows, and for a lock held by another process for up to
// busyTimeout.
func (s *Store) Append(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	// Before any I/O (Prepare checks the events, inside the transaction). A
	// negative seq would otherwise read as a conflict.
	if err := engine.ValidateAppend(stream, expectedSeq); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if err := s.lockWriter(ctx); err != nil {
		return nil, fmt.Errorf("append to %s: %w", stream.ID, err)
	}
	stored, err := s.appendLocked(ctx, stream, expectedSeq, events)
	s.unlockWriter()
	var conflict *eventstore.ConflictError
	switch {
	case errors.As(err, &conflict):
		return nil, err // its message names the stream
	case err != nil:
		return nil, fmt.Errorf("append to %s: %w", stream.ID, s.closedOr(err))
	}
	engine.NotifyCommitted(ctx, s.opts, stored)
	return stored, nil
}

// AppendBatch implements eventstore.BatchAppender: every part in one
// write transaction.
func (s *Store) AppendBatch(ctx context.Context, parts []eventstore.StreamAppend) ([][]domain.Event, error) {
	if err := engine.ValidateBatch(parts); err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	if err := s.lockWriter(ctx); err != nil {
		return nil, fmt.Errorf("append batch: %w", err)
	}
	out, inserted, err := s.appendBatchLocked(ctx, parts)
	s.unlockWriter()
	var part *eventstore.BatchPartError
	switch {
	case errors.As(err, &part):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("append batch: %w", s.closedOr(err))
	}
	if inserted {
		for _, events := range out {
			engine.NotifyCommitted(ctx, s.opts, events)
		}
	}
	return out, nil
}

// lockWriter takes the write slot, or fails when ctx ends or the store closes.
func (s *Store) lockWriter(ctx context.Context) error {
	select {
	case <-s.done:
		return eventstore.ErrClosed
	default:
	}
	select {
	case s.writeSlot <- struct{}{}:
		if s.closed.Load() {
			s.unlockWriter()
			return eventstore.ErrClosed
		}
		return nil
	case <-s.done:
		return eventstore.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockWriter() { <-s.writeSlot }

// appendLocked runs one append in one write transaction. The caller holds
// the write slot.
func (s *Store) appendLocked(ctx context.Context, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	return s.appendWithLocked(ctx, eventstore.StreamAppend{Stream: stream, ExpectedSeq: expectedSeq, Events: events}, nil)
}

// appendWith appends a as Append does, in one write transaction that runs
// op first (the lease an end drops): both commit or neither does. An
// error of op is returned as it is.
func (s *Store) appendWith(ctx context.Context, a eventstore.StreamAppend, op func(tx *sql.Tx) error) ([]domain.Event, error) {
	if err := engine.ValidateAppend(a.Stream, a.ExpectedSeq); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if err := s.lockWriter(ctx); err != nil {
		return nil, fmt.Errorf("append to %s: %w", a.Stream.ID, err)
	}
	stored, err := s.appendWithLocked(ctx, a, op)
	s.unlockWriter()
	if err != nil {
		return nil, s.closedOr(err)
	}
	engine.NotifyCommitted(ctx, s.opts, stored)
	return stored, nil
}

// appendWithLocked is appendWith's transaction (op may be nil). The
// caller holds the write slot. A retry of a committed append returns the
// stored events and rolls op back with the rest.
func (s *Store) appendWithLocked(ctx context.Context, a eventstore.StreamAppend, op func(tx *sql.Tx) error) ([]domain.Event, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; a failed append reports its own error
	db := s.wdb.inTx(tx)
	if op != nil {
		if err := op(tx); err != nil {
			return nil, err
		}
	}
	stored, inserted, err := s.appendPart(ctx, db, a)
	if err != nil || !inserted {
		return stored, err
	}
	if err := s.commitParts(tx, []eventstore.StreamAppend{a}, [][]domain.Event{stored}); err != nil {
		return nil, err
	}
	return stored, nil
}

// appendBatchLocked runs an AppendBatch in one write transaction. The
// caller holds the write slot. It returns the stored events of each part
// and whether the batch was inserted now (not a retry of a committed one).
func (s *Store) appendBatchLocked(ctx context.Context, parts []eventstore.StreamAppend) ([][]domain.Event, bool, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; a failed batch reports its own error
	db := s.wdb.inTx(tx)
	out := make([][]domain.Event, len(parts))
	firstStored, firstInserted := -1, -1
	for i, a := range parts {
		events, inserted, err := s.appendPart(ctx, db, a)
		if err != nil {
			return nil, false, &eventstore.BatchPartError{Index: i, StreamID: a.Stream.ID, Err: err}
		}
		out[i] = events
		switch {
		case inserted && firstInserted < 0:
			firstInserted = i
		case !inserted && firstStored < 0:
			firstStored = i
		}
	}
	switch {
	case firstInserted < 0:
		return out, false, nil // a retry of a committed batch
	case firstStored >= 0:
		a, stored := parts[firstStored], out[firstStored]
		return nil, false, &eventstore.BatchPartError{Index: firstStored, StreamID: a.Stream.ID, Err: &eventstore.ConflictError{
			StreamID: a.Stream.ID, Expected: a.ExpectedSeq, Actual: stored[len(stored)-1].Seq}}
	}
	if err := s.commitParts(tx, parts, out); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// appendPart appends one stream's events inside a write transaction. The
// order of the checks is the contract's: invalid input first, then an
// idempotent retry (a retry of a committed append is a no-op, not a
// conflict: it returns the stored events and inserted false), then the
// stream's owner, then the expected seq. Event ids are looked up only when
// the head does not match or the insert hits a key: an append at the head
// costs no extra query.
func (s *Store) appendPart(ctx context.Context, db dbsqlc.DBTX, a eventstore.StreamAppend) (events []domain.Event, inserted bool, err error) {
	head, err := s.head(ctx, db, a.Stream.ID, a.ExpectedSeq)
	if err != nil {
		return nil, false, err
	}
	prepared, err := eventstore.Prepare(a.Stream, head.Seq, head.Hash, a.Events, s.opts)
	if err != nil {
		return nil, false, err
	}
	// Event ids are looked up off the head only: at the head, a committed
	// retry cannot exist (the insert below finds reused ids).
	stored, err := engine.CheckHead(a.Stream, a.ExpectedSeq, head, func() ([]domain.Event, error) {
		return s.retried(ctx, db, a.Stream, a.ExpectedSeq, a.Events)
	})
	if stored != nil || err != nil {
		return stored, false, err
	}
	if err := s.insert(ctx, db, prepared); err != nil {
		if constraintFailed(err, "events.seq") || constraintFailed(err, "events.event_id") {
			// Another process appended these very events (a retry), or ids are reused.
			if stored, rerr := s.retried(ctx, db, a.Stream, a.ExpectedSeq, a.Events); stored != nil || rerr != nil {
				return stored, false, rerr
			}
		}
		return nil, false, s.insertError(ctx, db, a.Stream.ID, a.ExpectedSeq, err)
	}
	return prepared, true, nil
}

// commitParts commits tx, which inserted parts' events (stored), and
// records the streams' new heads and the feed's.
func (s *Store) commitParts(tx *sql.Tx, parts []eventstore.StreamAppend, stored [][]domain.Event) error {
	if err := tx.Commit(); err != nil {
		for _, a := range parts {
			delete(s.heads, a.Stream.ID) // the commit may or may not have happened
		}
		return fmt.Errorf("commit: %w", err)
	}
	events := 0
	var lastPosition int64
	for i, a := range parts {
		last := stored[i][len(stored[i])-1]
		s.remember(a.Stream.ID, engine.Head{Seq: last.Seq, Hash: last.Hash, TenantID: a.Stream.TenantID, StreamType: a.Stream.Type})
		events += len(stored[i])
		lastPosition = max(lastPosition, last.Position)
	}
	s.feed.Advance(lastPosition + 1)
	engine.ObserveCommit(s.opts, len(parts), events)
	return nil
}

// head returns the stream's head: from the cache when it is at expectedSeq
// (the append's only hope of success; the unique index catches a stale
// entry), otherwise from the file, inside the write transaction.
func (s *Store) head(ctx context.Context, db dbsqlc.DBTX, streamID string, expectedSeq int64) (engine.Head, error) {
	if h, ok := s.heads[streamID]; ok && h.Seq == expectedSeq {
		return h, nil
	}
	r, err := s.q.StreamHead(ctx, db, streamID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return engine.Head{}, nil
	case err != nil:
		return engine.Head{}, fmt.Errorf("read stream head: %w", err)
	}
	h := engine.Head{Seq: r.Seq, TenantID: r.TenantID, StreamType: domain.StreamType(r.StreamType)}
	if err := scanHash(&h.Hash, r.Hash); err != nil {
		return engine.Head{}, fmt.Errorf("read stream head: %w", err)
	}
	s.remember(streamID, h)
	return h, nil
}

// remember caches a stream head, evicting an arbitrary entry when full.
func (s *Store) remember(streamID string, h engine.Head) {
	if _, ok := s.heads[streamID]; !ok && len(s.heads) >= headCacheSize {
		for id := range s.heads {
			delete(s.heads, id)
			break
		}
	}
	s.heads[streamID] = h
}

// insert gives events their feed positions, after the last committed one,
// and inserts them.
func (s *Store) insert(ctx context.Context, db dbsqlc.DBTX, events []domain.Event) error {
	next, err := s.q.FeedHead(ctx, db)
	if err != nil {
		return fmt.Errorf("read feed head: %w", err)
	}
	for i := range events {
		events[i].Position = next + int64(i)
		arg, err := insertParams(&events[i])
		if err != nil {
			return err
		}
		if err := s.q.EventsInsert(ctx, db, arg); err != nil {
			return err
		}
	}
	return nil
}

// insertError maps a failed insert. A unique violation on (stream_id, seq)
// means the cached head was stale (another process appended): a conflict.
// retried looks the append's event ids up: (nil, nil) when none is stored,
// otherwise engine.Retried's answer.
func (s *Store) retried(ctx context.Context, db dbsqlc.DBTX, stream eventstore.Stream, expectedSeq int64, events []domain.NewEvent) ([]domain.Event, error) {
	stored, err := eventsOf(s.q.EventsGetByIDs(ctx, db, eventIDsJSON(events)))
	if err != nil {
		return nil, fmt.Errorf("look up event ids: %w", err)
	}
	if len(stored) == 0 {
		return nil, nil
	}
	return engine.Retried(stream, expectedSeq, events, stored)
}

func (s *Store) insertError(ctx context.Context, db dbsqlc.DBTX, streamID string, expectedSeq int64, err error) error {
	switch {
	case constraintFailed(err, "events.seq"):
		delete(s.heads, streamID)
		conflict := &eventstore.ConflictError{StreamID: streamID, Expected: expectedSeq, Actual: -1}
		// A failed statement leaves the transaction usable, and with the
		// cache entry gone, head reads the file.
		if h, herr := s.head(ctx, db, streamID, expectedSeq); herr == nil {
			conflict.Actual = h.Seq
		}
		return conflict
	case constraintFailed(err, "events.event_id"):
		return fmt.Errorf("insert events: %w", eventstore.ErrEventIDReused)
	}
	return fmt.Errorf("insert events: %w", err)
}

// constraintFailed reports whether err is SQLite's constraint error naming
// column (as table.column).
func constraintFailed(err error, column string) bool {
	var se *sqlitedriver.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT && strings.Contains(se.Error(), column)
}
