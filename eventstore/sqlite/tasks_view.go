package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/projections"
)

var _ projections.TaskViewStore = (*Store)(nil)

const taskViewColumns = `task_id, tenant_id, name, adapter, state, attempt, created_at, started_at, ended_at, last_seq, last_position, queued_at`

// TaskViewsApply implements projections.TaskViewStore. It runs on the writer
// connection, so appends wait while it applies a batch.
func (s *Store) TaskViewsApply(ctx context.Context, name string, from int64, events []domain.Event) error {
	if err := projections.CheckBatch(from, events); err != nil {
		return err
	}
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	if err := s.applyTaskViews(ctx, name, from, events); err != nil {
		return fmt.Errorf("apply %d events at %d to %s: %w", len(events), from, name, s.closedOr(err))
	}
	return nil
}

func (s *Store) applyTaskViews(ctx context.Context, name string, from int64, events []domain.Event) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var at int64
	err = tx.QueryRowContext(ctx, `SELECT next_position FROM projection_checkpoints WHERE name = ?`, name).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if at != from {
		return &projections.CheckpointError{Name: name, Expected: from, Actual: at}
	}
	current := make(map[string]projections.TaskView)
	if ids := projections.TaskViewIDs(events); len(ids) > 0 {
		if err := readTaskViews(ctx, tx, ids, current); err != nil {
			return err
		}
	}
	changed, err := projections.FoldTaskViews(current, events)
	if err != nil {
		return err
	}
	// pruned_at is not among the columns: a new row has none, and an
	// updated row keeps the retention job's mark.
	for _, v := range changed {
		_, err := tx.ExecContext(ctx, `INSERT INTO task_views (`+taskViewColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (task_id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
				adapter = excluded.adapter, state = excluded.state, attempt = excluded.attempt,
				created_at = excluded.created_at, started_at = excluded.started_at, ended_at = excluded.ended_at,
				last_seq = excluded.last_seq, last_position = excluded.last_position, queued_at = excluded.queued_at`,
			v.TaskID, v.TenantID, v.Name, v.Adapter, string(v.State), v.Attempt, v.CreatedAt.UnixMicro(),
			optionalMicros(v.StartedAt), optionalMicros(v.EndedAt), v.LastSeq, v.LastPosition, optionalMicros(v.QueuedAt))
		if err != nil {
			return fmt.Errorf("upsert task view %s: %w", v.TaskID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO projection_checkpoints (name, next_position) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET next_position = excluded.next_position`, name, from+int64(len(events))); err != nil {
		return fmt.Errorf("move checkpoint: %w", err)
	}
	return tx.Commit()
}

// readTaskViews reads the rows of ids into out, in chunks that stay below
// SQLite's limit on bound parameters.
func readTaskViews(ctx context.Context, tx *sql.Tx, ids []string, out map[string]projections.TaskView) error {
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		ids = ids[n:]
		rows, err := tx.QueryContext(ctx, `SELECT `+taskViewColumns+` FROM task_views WHERE task_id IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("read task views: %w", err)
		}
		views, err := scanTaskViews(rows)
		if err != nil {
			return err
		}
		for _, v := range views {
			out[v.TaskID] = v
		}
	}
	return nil
}

// TaskViewsCheckpoint implements projections.TaskViewStore.
func (s *Store) TaskViewsCheckpoint(ctx context.Context, name string) (int64, error) {
	var at int64
	err := s.reader.QueryRowContext(ctx, `SELECT next_position FROM projection_checkpoints WHERE name = ?`, name).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", name, s.closedOr(err))
	}
	return at, nil
}

// TaskViewsReset implements projections.TaskViewStore.
func (s *Store) TaskViewsReset(ctx context.Context, name string) error {
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	if err := s.resetTaskViews(ctx, name); err != nil {
		return fmt.Errorf("reset %s: %w", name, s.closedOr(err))
	}
	return nil
}

func (s *Store) resetTaskViews(ctx context.Context, name string) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `DELETE FROM task_views`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO projection_checkpoints (name, next_position) VALUES (?, 0)
		ON CONFLICT (name) DO UPDATE SET next_position = 0`, name); err != nil {
		return err
	}
	return tx.Commit()
}

// TaskViewsList implements projections.TaskViewStore.
func (s *Store) TaskViewsList(ctx context.Context, q projections.TaskQuery) ([]projections.TaskView, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	query, args := taskViewsListQuery(q)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks of tenant: %w", s.closedOr(err))
	}
	views, err := scanTaskViews(rows)
	if err != nil {
		return nil, fmt.Errorf("list tasks of tenant: %w", err)
	}
	if views == nil {
		views = []projections.TaskView{}
	}
	return views, nil
}

// taskViewsListQuery is the query of one page of a task list: a range of
// one of the (tenant_id[, state], created_at DESC, task_id DESC) indexes.
func taskViewsListQuery(q projections.TaskQuery) (string, []any) {
	query := `SELECT ` + taskViewColumns + ` FROM task_views WHERE tenant_id = ?`
	args := []any{q.TenantID}
	if q.State != "" {
		query += ` AND state = ?`
		args = append(args, string(q.State))
	}
	if q.After != nil {
		query += ` AND (created_at, task_id) < (?, ?)`
		args = append(args, q.After.CreatedAt.UnixMicro(), q.After.TaskID)
	}
	query += ` ORDER BY created_at DESC, task_id DESC LIMIT ?`
	args = append(args, q.Limit)
	return query, args
}

// scanTaskViews reads and closes rows.
func scanTaskViews(rows *sql.Rows) ([]projections.TaskView, error) {
	defer func() { _ = rows.Close() }()
	var out []projections.TaskView
	for rows.Next() {
		var v projections.TaskView
		var state string
		var created int64
		var started, ended, queued sql.NullInt64
		if err := rows.Scan(&v.TaskID, &v.TenantID, &v.Name, &v.Adapter, &state, &v.Attempt, &created,
			&started, &ended, &v.LastSeq, &v.LastPosition, &queued); err != nil {
			return nil, fmt.Errorf("read task view: %w", err)
		}
		v.State = domain.TaskState(state)
		v.CreatedAt = time.UnixMicro(created).UTC()
		if started.Valid {
			v.StartedAt = time.UnixMicro(started.Int64).UTC()
		}
		if ended.Valid {
			v.EndedAt = time.UnixMicro(ended.Int64).UTC()
		}
		if queued.Valid {
			v.QueuedAt = time.UnixMicro(queued.Int64).UTC()
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read task views: %w", err)
	}
	return out, nil
}

// optionalMicros is t in unix microseconds, or NULL for the zero time.
func optionalMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
