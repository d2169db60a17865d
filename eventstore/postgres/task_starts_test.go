package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
	"github.com/axontask/axontask/internal/testwait"
)

// TestGroupsDoNotDeadlock: two group commits in flight at once (two
// processes, or GroupCommits above 1) that would take tenants' locks in
// opposite orders must not deadlock: Postgres would abort one of them, and
// every write of its group would fail. Reservations lock the tenants' day
// rows, lease puts the tenants' advisory locks.
func TestGroupsDoNotDeadlock(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		// hold locks tenant x in tx.
		hold string
		// write commits one write for each of tenants as one group.
		write func(s *Store, tenants ...string) []error
		// check fails t unless a and b have 3 writes and x 2.
		check func(t *testing.T, s *Store)
	}{{
		name: "reservations",
		hold: `SELECT 1 FROM tenant_daily_usage WHERE tenant_id = 'x' FOR UPDATE`,
		write: func(s *Store, tenants ...string) []error {
			rs := make([]*reservation, len(tenants))
			for i, tenant := range tenants {
				rs[i] = &reservation{TenantDailyUsageReserveParams: dbsqlc.TenantDailyUsageReserveParams{TenantID: tenant, Day: day, Starts: 1, MaxTasks: 100}}
			}
			return s.writeReservations(context.Background(), rs)
		},
		check: func(t *testing.T, s *Store) {
			for tenant, want := range map[string]int{"a": 3, "b": 3, "x": 2} {
				if n, err := s.TaskStartCount(context.Background(), tenant, day); err != nil || n != want {
					t.Fatalf("tenant %s: %d starts (%v), want %d", tenant, n, err, want)
				}
			}
		},
	}, {
		name: "lease puts",
		hold: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext('x'))`, leaseLockClass),
		write: func(s *Store, tenants ...string) []error {
			puts := make([]*leasePut, len(tenants))
			for i, tenant := range tenants {
				puts[i] = &leasePut{LeasePutWithinParams: dbsqlc.LeasePutWithinParams{
					LockClass: leaseLockClass, TaskID: uuid.NewString(), TenantID: tenant, WorkerID: "w", Attempt: 1,
					ExpiresAt: time.Now().Add(time.Hour), MaxLeases: 100,
				}}
			}
			errs := s.writeLeasePuts(context.Background(), puts)
			for i, p := range puts {
				if errs[i] == nil && p.outcome != "ok" {
					errs[i] = fmt.Errorf("lease of %s: %s", p.TenantID, p.outcome)
				}
			}
			return errs
		},
		check: func(t *testing.T, s *Store) {
			for tenant, want := range map[string]int{"a": 3, "b": 3, "x": 2} {
				var n int
				if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM task_leases WHERE tenant_id = $1`, tenant).Scan(&n); err != nil || n != want {
					t.Fatalf("tenant %s: %d leases (%v), want %d", tenant, n, err, want)
				}
			}
		},
	}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, _ := openStore(t, Config{})
			ctx := context.Background()
			for _, tenant := range []string{"a", "b", "x"} {
				if errs := c.write(s, tenant); errs[0] != nil {
					t.Fatal(errs[0])
				}
			}
			waiting := func(n int) func() bool {
				return func() bool {
					var waiters int
					err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
						WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiters)
					return err == nil && waiters == n
				}
			}
			// x is held, so that the first group stops at it holding a.
			holder, err := s.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Rollback(ctx) //nolint:errcheck // a no-op after Commit
			if _, err := holder.Exec(ctx, c.hold); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var first, second []error
			wg.Go(func() { first = c.write(s, "a", "x", "b") })
			testwait.For(t, "the first group to wait", waiting(1))
			wg.Go(func() { second = c.write(s, "b", "a") })
			testwait.For(t, "the second group to wait", waiting(2))
			if err := holder.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			for _, err := range append(first, second...) {
				if err != nil {
					t.Fatalf("two groups in flight at once: %v, %v", first, second)
				}
			}
			c.check(t, s)
		})
	}
}

// TestReservationCanceledWhileQueued: a reservation whose caller gives up
// while it waits in the committer's queue is refused with ctx's error and
// must then never be counted: the caller has no start to release it for,
// so a count it left behind would hold one of the tenant's starts of the
// day for nothing.
func TestReservationCanceledWhileQueued(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{GroupCommits: 1})
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	release := make(chan struct{})
	var once sync.Once
	s.starts.testHookBeforeWrite = func(int) { once.Do(func() { <-release }) }
	committer := func() (queued, inFlight int) {
		s.starts.mu.Lock()
		defer s.starts.mu.Unlock()
		return len(s.starts.queue), s.starts.inFlight
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, ok, err := s.TaskStartReserve(context.Background(), "t", day, 1, 10); err != nil || !ok {
			t.Errorf("the first reservation: %v, %v", ok, err)
		}
	})
	testwait.For(t, "the first reservation to hold the commit", func() bool { _, n := committer(); return n == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() {
		_, _, err := s.TaskStartReserve(ctx, "t", day, 1, 10)
		canceled <- err
	}()
	testwait.For(t, "the second reservation to queue", func() bool { n, _ := committer(); return n == 1 })
	cancel()
	if err := <-canceled; err == nil {
		t.Fatal("a reservation canceled while queued succeeded")
	}
	close(release)
	wg.Wait()
	testwait.For(t, "the committer to be idle", func() bool { n, f := committer(); return n == 0 && f == 0 })
	if n, err := s.TaskStartCount(context.Background(), "t", day); err != nil || n != 1 {
		t.Fatalf("count %d (%v) after one reservation and one canceled, want 1", n, err)
	}
}
