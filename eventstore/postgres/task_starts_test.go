package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// TestReservationGroupsDoNotDeadlock: two group commits of reservations
// in flight at once (two processes, or GroupCommits above 1) that hold
// tenants' day rows in opposite orders must not deadlock: Postgres would
// abort one of them, and every reservation of its group would fail.
func TestReservationGroupsDoNotDeadlock(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{})
	ctx := context.Background()
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, tenant := range []string{"a", "b", "x"} {
		if _, _, err := s.TaskStartReserve(ctx, tenant, day, 1, 100); err != nil {
			t.Fatal(err)
		}
	}
	reservations := func(tenants ...string) []*reservation {
		rs := make([]*reservation, len(tenants))
		for i, tenant := range tenants {
			rs[i] = &reservation{TenantDailyUsageReserveParams: dbsqlc.TenantDailyUsageReserveParams{TenantID: tenant, Day: day, Starts: 1, MaxTasks: 100}}
		}
		return rs
	}
	waiting := func(n int) func() bool {
		return func() bool {
			var waiters int
			err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiters)
			return err == nil && waiters == n
		}
	}
	// x's row is held, so that the first group stops at it holding a's.
	holder, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := holder.Exec(ctx, `SELECT 1 FROM tenant_daily_usage WHERE tenant_id = 'x' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var first, second []error
	wg.Go(func() { first = s.writeReservations(ctx, reservations("a", "x", "b")) })
	waitFor(t, "the first group to wait", waiting(1))
	wg.Go(func() { second = s.writeReservations(ctx, reservations("b", "a")) })
	waitFor(t, "the second group to wait", waiting(2))
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, err := range append(first, second...) {
		if err != nil {
			t.Fatalf("reservations of two groups in flight at once: %v, %v", first, second)
		}
	}
	for tenant, want := range map[string]int{"a": 3, "b": 3, "x": 2} {
		if n, err := s.TaskStartCount(ctx, tenant, day); err != nil || n != want {
			t.Fatalf("tenant %s: %d starts (%v), want %d", tenant, n, err, want)
		}
	}
}
