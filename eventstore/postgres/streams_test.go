package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// errCaptured stops a query that capturedSQL has recorded.
var errCaptured = errors.New("captured")

// capturedSQL is a dbsqlc.DBTX that records the text of the query it is
// given instead of running it.
type capturedSQL struct{ sql string }

func (c *capturedSQL) Exec(_ context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	c.sql = sql
	return pgconn.CommandTag{}, errCaptured
}

func (c *capturedSQL) Query(_ context.Context, sql string, _ ...any) (pgx.Rows, error) {
	c.sql = sql
	return nil, errCaptured
}

func (c *capturedSQL) QueryRow(_ context.Context, sql string, _ ...any) pgx.Row {
	c.sql = sql
	return nil
}

// SendBatch completes dbsqlc.DBTX; no captured query sends a batch.
func (c *capturedSQL) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults { return nil }

// genericPlans prepares each statement of prepared (name → SQL) on a
// connection of its own to url, with generic plans forced (the plan a
// prepared statement settles on, whatever its parameters), and returns a
// function that returns what EXPLAIN prints for an EXECUTE, like
// "name('tenant-a', 100)", and logs it.
func genericPlans(t *testing.T, url string, prepared map[string]string) (explain func(execute string) string) {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	stmts := []string{"SET plan_cache_mode = force_generic_plan"}
	for name, sql := range prepared {
		stmts = append(stmts, "PREPARE "+name+" AS "+sql)
	}
	for _, stmt := range stmts {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return func(execute string) string {
		t.Helper()
		rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+execute)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		t.Logf("EXPLAIN EXECUTE %s\n%s", execute, plan)
		return plan
	}
}

// TestStreamsListUsesPartialIndex: the generic plan of StreamsList (the one
// a prepared statement settles on, whatever the parameters) is a range of
// the partial index events_tenant_type_stream_idx in index order, with no
// sort: the query repeats the index's predicate and collation.
func TestStreamsListUsesPartialIndex(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := t.Context()
	var c capturedSQL
	if _, err := s.q.StreamsList(ctx, &c, dbsqlc.StreamsListParams{}); !errors.Is(err, errCaptured) {
		t.Fatalf("StreamsList did not run its query: %v", err)
	}
	plan := genericPlans(t, url, map[string]string{"streams_list": c.sql})("streams_list('tenant-a', 'api_key', 'key-1', 100)")
	if !strings.Contains(plan, "Index Only Scan using events_tenant_type_stream_idx") || strings.Contains(plan, "Sort") {
		t.Errorf("StreamsList is not a range of events_tenant_type_stream_idx in index order:\n%s", plan)
	}
}
