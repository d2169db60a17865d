package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
)

// eventColumns are the events table's columns in the order scanEvent and
// insertArgs use.
const eventColumns = `position, event_id, stream_id, stream_type, seq, tenant_id, type,
	payload, payload_salt, payload_digest, metadata, occurred_at, hash_prev, hash`

const (
	// queryFeedHead is the number of events in the feed: the next position.
	queryFeedHead = `SELECT COALESCE(MAX(position) + 1, 0) FROM events`

	queryStreamHead = `SELECT seq, hash, tenant_id, stream_type FROM events
	WHERE stream_id = ? ORDER BY seq DESC LIMIT 1`

	// queryEventsByID takes the ids as one JSON array, so that one prepared
	// statement serves any batch size; it probes the event_id index.
	queryEventsByID = `SELECT ` + eventColumns + ` FROM events
	WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY stream_id, seq`

	queryInsertEvent = `INSERT INTO events (` + eventColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	queryReadStream = `SELECT ` + eventColumns + ` FROM events
	WHERE stream_id = ? AND seq > ? ORDER BY seq LIMIT ?`

	queryReadFeed = `SELECT ` + eventColumns + ` FROM events
	WHERE position >= ? ORDER BY position LIMIT ?`

	// queryListStreams is a page of a tenant's streams of one type, in
	// byte order of id. The literal seq = 1 and stream_type <> 'task'
	// repeat the predicate of the partial index events_tenant_type_stream_idx:
	// SQLite uses the index only then.
	queryListStreams = `SELECT stream_id FROM events
	WHERE tenant_id = ? AND stream_type = ? AND seq = 1 AND stream_type <> 'task' AND stream_id > ?
	ORDER BY stream_id LIMIT ?`

	// queryTouchAPIKeys takes the uses as one JSON object of key id to unix
	// microseconds. WHERE true lets SQLite parse the upsert of a SELECT; a
	// row is rewritten only when its time moves forward.
	queryTouchAPIKeys = `INSERT INTO api_key_usage (key_id, last_used_at)
	SELECT key, value FROM json_each(?) WHERE true
	ON CONFLICT (key_id) DO UPDATE SET last_used_at = excluded.last_used_at
	WHERE excluded.last_used_at > api_key_usage.last_used_at`

	// queryAPIKeysLastUsed takes the ids as one JSON array.
	queryAPIKeysLastUsed = `SELECT key_id, last_used_at FROM api_key_usage
	WHERE key_id IN (SELECT value FROM json_each(?))`

	// queryReserveTaskStart counts one more task start on a tenant's day
	// ('YYYY-MM-DD') unless its count has reached the limit (at least 1)
	// and returns the new count; when it has, the row is left alone and no
	// row comes back.
	queryReserveTaskStart = `INSERT INTO tenant_daily_usage (tenant_id, day, tasks) VALUES (?, ?, 1)
	ON CONFLICT (tenant_id, day) DO UPDATE SET tasks = tenant_daily_usage.tasks + 1
	WHERE tenant_daily_usage.tasks < ?
	RETURNING tasks`

	// queryReleaseTaskStart counts one task start fewer, never below 0.
	queryReleaseTaskStart = `UPDATE tenant_daily_usage SET tasks = tasks - 1
	WHERE tenant_id = ? AND day = ? AND tasks > 0`

	queryTaskStartsUsed = `SELECT tasks FROM tenant_daily_usage WHERE tenant_id = ? AND day = ?`

	// queryPutLeaseWithin inserts a lease (task, tenant, worker, attempt,
	// expiry) only if its tenant (the second argument again) holds fewer
	// leases than the limit, expired ones counted, and the task has none;
	// otherwise it affects no row. Exact only inside a write transaction.
	queryPutLeaseWithin = `INSERT INTO task_leases (task_id, tenant_id, worker_id, attempt, expires_at)
	SELECT ?1, ?2, ?3, ?4, ?5
	WHERE (SELECT count(*) FROM task_leases WHERE tenant_id = ?2) < ?6
	ON CONFLICT (task_id) DO NOTHING`

	queryLeaseExists = `SELECT EXISTS (SELECT 1 FROM task_leases WHERE task_id = ?)`

	// queryMarkWaiting records that a task waits; a task already marked
	// keeps its row (its first since).
	queryMarkWaiting = `INSERT INTO task_waiting (task_id, tenant_id, since) VALUES (?, ?, ?)
	ON CONFLICT (task_id) DO NOTHING`

	queryUnmarkWaiting = `DELETE FROM task_waiting WHERE task_id = ?`

	// queryWaitingTasks and queryWaitingTasksOfTenant list the oldest
	// waiting tasks, through task_waiting_since_idx and
	// task_waiting_tenant_since_idx.
	queryWaitingTasks = `SELECT task_id, tenant_id, since FROM task_waiting
	ORDER BY since, task_id LIMIT ?`
	queryWaitingTasksOfTenant = `SELECT task_id, tenant_id, since FROM task_waiting
	WHERE tenant_id = ? ORDER BY since, task_id LIMIT ?`

	// queryStaleQueuedTasks lists the queued tasks of every tenant queued
	// before a cutoff (unix microseconds) that hold no lease and have no
	// task_waiting row, oldest queued first: a range of the partial index
	// task_views_queued_idx in its order, with a primary-key probe of
	// task_leases and of task_waiting per row. The literal 'queued'
	// repeats the index's predicate, without which SQLite does not use it.
	queryStaleQueuedTasks = `SELECT v.task_id, v.tenant_id, v.queued_at FROM task_views v
	WHERE v.state = 'queued' AND v.queued_at < ?
		AND NOT EXISTS (SELECT 1 FROM task_leases l WHERE l.task_id = v.task_id)
		AND NOT EXISTS (SELECT 1 FROM task_waiting w WHERE w.task_id = v.task_id)
	ORDER BY v.queued_at, v.task_id LIMIT ?`

	// queryTenantsWithEndedTasks is a page of the tenants with tasks to
	// prune that ended before a cutoff (unix microseconds), in byte order
	// of id, after a tenant id ("" for the first page). A loose index scan
	// of task_views_prunable_idx: the recursive part steps from tenant to
	// tenant, one probe each, and each tenant costs one more probe for its
	// earliest end; it never reads a tenant's other tasks. Every subquery
	// repeats the index's predicate, without which SQLite does not use it.
	queryTenantsWithEndedTasks = `WITH RECURSIVE tenants(tenant_id) AS (
		SELECT (SELECT v.tenant_id FROM task_views v
			WHERE v.ended_at IS NOT NULL AND v.pruned_at IS NULL AND v.tenant_id > ?1
			ORDER BY v.tenant_id LIMIT 1)
		UNION ALL
		SELECT (SELECT v.tenant_id FROM task_views v
			WHERE v.ended_at IS NOT NULL AND v.pruned_at IS NULL AND v.tenant_id > t.tenant_id
			ORDER BY v.tenant_id LIMIT 1)
		FROM tenants t WHERE t.tenant_id IS NOT NULL
	)
	SELECT t.tenant_id FROM tenants t
	WHERE t.tenant_id IS NOT NULL
		AND EXISTS (SELECT 1 FROM task_views v
			WHERE v.ended_at IS NOT NULL AND v.pruned_at IS NULL AND v.tenant_id = t.tenant_id AND v.ended_at < ?2)
	LIMIT ?3`

	// queryEndedTasks is a tenant's tasks to prune that ended before a
	// cutoff, the earliest ended first: a range of task_views_prunable_idx,
	// in its order.
	queryEndedTasks = `SELECT task_id FROM task_views
	WHERE ended_at IS NOT NULL AND pruned_at IS NULL AND tenant_id = ? AND ended_at < ?
	ORDER BY ended_at, task_id LIMIT ?`

	// queryStreamLastEvent is a stream's last event's seq, stream type and
	// event type.
	queryStreamLastEvent = `SELECT seq, stream_type, type FROM events
	WHERE stream_id = ? ORDER BY seq DESC LIMIT 1`

	// queryPruneEvents prunes the payloads and salts of a task stream's
	// events up to a seq that still have them (the one change the
	// events_prune_only trigger allows).
	queryPruneEvents = `UPDATE events SET payload = NULL, payload_salt = NULL
	WHERE stream_id = ? AND seq <= ? AND stream_type = 'task' AND (payload IS NOT NULL OR payload_salt IS NOT NULL)`

	// queryMarkTaskViewPruned marks a task's row pruned at a time (unix
	// microseconds), unless it is marked already.
	queryMarkTaskViewPruned = `UPDATE task_views SET pruned_at = ? WHERE task_id = ? AND pruned_at IS NULL`
)

// writerStmts are prepared once on the writer's one connection.
type writerStmts struct {
	feedHead, head, findEvents, insert *sql.Stmt
}

// readerStmts are prepared on the read-only pool (on each connection as it
// first runs them).
type readerStmts struct {
	feedHead, readStream, readFeed, listStreams, apiKeysLastUsed, taskStartsUsed *sql.Stmt
	waitingTasks, waitingTasksOfTenant, staleQueuedTasks                         *sql.Stmt
	tenantsWithEndedTasks, endedTasks                                            *sql.Stmt
}

func prepareWriter(ctx context.Context, db *sql.DB) (writerStmts, error) {
	var w writerStmts
	err := prepareAll(ctx, db, map[**sql.Stmt]string{
		&w.feedHead:   queryFeedHead,
		&w.head:       queryStreamHead,
		&w.findEvents: queryEventsByID,
		&w.insert:     queryInsertEvent,
	})
	return w, err
}

func prepareReader(ctx context.Context, db *sql.DB) (readerStmts, error) {
	var r readerStmts
	err := prepareAll(ctx, db, map[**sql.Stmt]string{
		&r.feedHead:              queryFeedHead,
		&r.readStream:            queryReadStream,
		&r.readFeed:              queryReadFeed,
		&r.listStreams:           queryListStreams,
		&r.apiKeysLastUsed:       queryAPIKeysLastUsed,
		&r.taskStartsUsed:        queryTaskStartsUsed,
		&r.waitingTasks:          queryWaitingTasks,
		&r.waitingTasksOfTenant:  queryWaitingTasksOfTenant,
		&r.staleQueuedTasks:      queryStaleQueuedTasks,
		&r.tenantsWithEndedTasks: queryTenantsWithEndedTasks,
		&r.endedTasks:            queryEndedTasks,
	})
	return r, err
}

// prepareAll prepares every query into its destination. On failure the
// statements prepared so far stay set, for the caller's close to release.
func prepareAll(ctx context.Context, db *sql.DB, queries map[**sql.Stmt]string) error {
	for dst, query := range queries {
		stmt, err := db.PrepareContext(ctx, query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", query, err)
		}
		*dst = stmt
	}
	return nil
}

func (w writerStmts) close() []error {
	return closeStmts(w.feedHead, w.head, w.findEvents, w.insert)
}

func (r readerStmts) close() []error {
	return closeStmts(r.feedHead, r.readStream, r.readFeed, r.listStreams, r.apiKeysLastUsed, r.taskStartsUsed,
		r.waitingTasks, r.waitingTasksOfTenant, r.staleQueuedTasks, r.tenantsWithEndedTasks, r.endedTasks)
}

func closeStmts(stmts ...*sql.Stmt) []error {
	var errs []error
	for _, stmt := range stmts {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	return errs
}

// insertArgs maps an event to queryInsertEvent's arguments: the id as
// lowercase text, the time as unix microseconds, metadata as JSON text.
func insertArgs(e *domain.Event) ([]any, error) {
	metadata, err := json.Marshal(e.Metadata)
	if err != nil {
		return nil, fmt.Errorf("encode metadata of event %s: %w", e.EventID, err)
	}
	return []any{
		e.Position, e.EventID.String(), e.StreamID, string(e.StreamType), e.Seq, e.TenantID, string(e.Type),
		e.Payload, e.PayloadSalt, e.PayloadDigest[:], string(metadata), e.OccurredAt.UnixMicro(),
		e.HashPrev[:], e.Hash[:],
	}, nil
}

// collect scans every row of a query for events; it takes QueryContext's
// results as they come.
func collect(rows *sql.Rows, err error) ([]domain.Event, error) {
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	events := []domain.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, rows.Err()
}

// scanEvent reads one row of eventColumns. Bytes are returned as stored: a
// payload altered in the file is read back altered, for verification to catch.
func scanEvent(rows *sql.Rows) (domain.Event, error) {
	var (
		e          domain.Event
		metadata   string
		occurredAt int64
	)
	err := rows.Scan(&e.Position, &e.EventID, &e.StreamID, &e.StreamType, &e.Seq, &e.TenantID, &e.Type,
		&e.Payload, &e.PayloadSalt, hashColumn{&e.PayloadDigest}, &metadata, &occurredAt,
		hashColumn{&e.HashPrev}, hashColumn{&e.Hash})
	if err != nil {
		return domain.Event{}, fmt.Errorf("scan event: %w", err)
	}
	e.OccurredAt = time.UnixMicro(occurredAt).UTC()
	if err := json.Unmarshal([]byte(metadata), &e.Metadata); err != nil {
		return domain.Event{}, fmt.Errorf("event at position %d: decode metadata: %w", e.Position, err)
	}
	return e, nil
}

// hashColumn scans a 32-byte BLOB into a domain.Hash.
type hashColumn struct{ dst *domain.Hash }

// Scan implements sql.Scanner.
func (c hashColumn) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok || len(b) != domain.HashSize {
		return fmt.Errorf("want a %d-byte BLOB, got %T of length %d", domain.HashSize, src, len(b))
	}
	copy(c.dst[:], b)
	return nil
}

// eventIDsJSON renders the events' ids as the JSON array queryEventsByID takes.
func eventIDsJSON(events []domain.NewEvent) string {
	buf := make([]byte, 0, 2+len(events)*39)
	buf = append(buf, '[')
	for i, e := range events {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, e.EventID.String()...)
		buf = append(buf, '"')
	}
	return string(append(buf, ']'))
}
