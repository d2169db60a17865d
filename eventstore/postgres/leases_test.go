package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/postgres/internal/dbsqlc"
)

// TestPutLeaseWithinAcrossProcesses: of 20 calls at once for 20 tasks of
// one tenant, spread over 4 stores on one database (4 processes), with a
// limit of 3, exactly 3 succeed.
func TestPutLeaseWithinAcrossProcesses(t *testing.T) {
	t.Parallel()
	first, url := openStore(t, Config{DisableSealer: true})
	stores := []*Store{first}
	for range 3 {
		stores = append(stores, openStoreAt(t, url, Config{DisableSealer: true}))
	}
	const callers, limit = 20, 3
	expires := time.Now().Add(time.Minute)
	errs := make(chan error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		s := stores[i%len(stores)]
		l := eventstore.Lease{TaskID: fmt.Sprintf("task-%d", i), TenantID: "tenant-a", WorkerID: fmt.Sprintf("w%d", i%len(stores)), Attempt: 1, ExpiresAt: expires}
		wg.Go(func() {
			<-start
			errs <- s.LeasePutWithin(t.Context(), l, limit)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	granted := 0
	for err := range errs {
		switch {
		case err == nil:
			granted++
		case !errors.Is(err, eventstore.ErrTenantAtLimit):
			t.Fatalf("LeasePutWithin: %v", err)
		}
	}
	var stored int
	if err := first.pool.QueryRow(t.Context(), "SELECT count(*) FROM task_leases WHERE tenant_id = 'tenant-a'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if granted != limit || stored != limit {
		t.Fatalf("%d leases granted and %d stored, want %d", granted, stored, limit)
	}
}

// TestPutLeaseWithinLockSpace: the tenant lock of LeasePutWithin is a
// two-int advisory lock, apart from every single-bigint one (elections,
// migrations): a session holding the bigint lock whose halves equal the
// tenant lock's two keys does not hold LeasePutWithin back.
func TestPutLeaseWithinLockSpace(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var key int64
	err = conn.QueryRow(ctx, "SELECT ($1::bigint << 32) | (hashtext('tenant-a')::bigint & x'ffffffff'::bigint)", leaseLockClass).Scan(&key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatal(err)
	}
	var classid, objid uint32
	err = conn.QueryRow(ctx, "SELECT classid::oid::bigint, objid::oid::bigint FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objsubid = 1").Scan(&classid, &objid)
	if err != nil {
		t.Fatal(err)
	}
	if classid != uint32(leaseLockClass) {
		t.Fatalf("the bigint lock shows classid %d, want %d: the test does not collide the keys", classid, leaseLockClass)
	}
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l := eventstore.Lease{TaskID: "task-1", TenantID: "tenant-a", WorkerID: "w1", Attempt: 1, ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.LeasePutWithin(callCtx, l, 1); err != nil {
		t.Fatalf("LeasePutWithin while a bigint lock with the same halves is held: %v", err)
	}
}

// TestWaitingTasksUseIndexes: the generic plans of the waiting task lists
// are ranges of their indexes; the list of every tenant needs no sort.
func TestWaitingTasksUseIndexes(t *testing.T) {
	t.Parallel()
	s, url := openStore(t, Config{})
	ctx := t.Context()
	var all, byTenant capturedSQL
	if _, err := s.q.TaskWaitingList(ctx, &all, 100); !errors.Is(err, errCaptured) {
		t.Fatalf("TaskWaitingList did not run its query: %v", err)
	}
	if _, err := s.q.TaskWaitingListByTenant(ctx, &byTenant, dbsqlc.TaskWaitingListByTenantParams{}); !errors.Is(err, errCaptured) {
		t.Fatalf("TaskWaitingListByTenant did not run its query: %v", err)
	}
	explain := genericPlans(t, url, map[string]string{"waiting_all": all.sql, "waiting_tenant": byTenant.sql})
	for _, tc := range []struct {
		explain, index string
		sortOK         bool
	}{
		{"waiting_all(100)", "task_waiting_since_idx", false},
		{"waiting_tenant('tenant-a', 100)", "task_waiting_tenant_since_idx", true}, // ties by task_id
	} {
		plan := explain(tc.explain)
		if !strings.Contains(plan, "using "+tc.index) || !tc.sortOK && strings.Contains(plan, "Sort") {
			t.Errorf("%s is not a range of %s (without a sort: %t):\n%s", tc.explain, tc.index, !tc.sortOK, plan)
		}
	}
}
