package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// newLease returns a lease of a new task of tenantID, held by worker w1
// for attempt 1, expiring at expires.
func newLease(tenantID string, expires time.Time) eventstore.Lease {
	return eventstore.Lease{TaskID: "task-" + uuid.NewString(), TenantID: tenantID, WorkerID: "w1", Attempt: 1, ExpiresAt: expires}
}

// putWithin calls LeasePutWithin and fails the test unless it returns an
// error matching want (nil for success).
func putWithin(t *testing.T, s eventstore.LeaseStore, l eventstore.Lease, limit int, want error) {
	t.Helper()
	err := s.LeasePutWithin(t.Context(), l, limit)
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("LeasePutWithin(task %s of %s, limit %d) = %v, want %v", l.TaskID, l.TenantID, limit, err, want)
	}
	if want != nil && errors.Is(err, eventstore.ErrLeaseTaken) && errors.Is(err, eventstore.ErrTenantAtLimit) {
		t.Fatalf("LeasePutWithin(task %s of %s, limit %d) = %v: matches both refusals", l.TaskID, l.TenantID, limit, err)
	}
}

// allLeases returns every stored lease, expired or not, by task id.
func allLeases(t *testing.T, s eventstore.LeaseStore) map[string]eventstore.Lease {
	t.Helper()
	never := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	got, err := s.LeasesExpired(t.Context(), never, 10_000)
	if err != nil {
		t.Fatalf("LeasesExpired: %v", err)
	}
	out := make(map[string]eventstore.Lease, len(got))
	for _, l := range got {
		out[l.TaskID] = l
	}
	return out
}

// leasedTasks returns the sorted task ids of tenantID's stored leases.
func leasedTasks(t *testing.T, s eventstore.LeaseStore, tenantID string) []string {
	t.Helper()
	var ids []string
	for id, l := range allLeases(t, s) {
		if l.TenantID == tenantID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// checkLeased fails the test unless tenantID's leases are those of want.
func checkLeased(t *testing.T, s eventstore.LeaseStore, tenantID string, want ...eventstore.Lease) {
	t.Helper()
	ids := make([]string, len(want))
	for i, l := range want {
		ids[i] = l.TaskID
	}
	slices.Sort(ids)
	if got := leasedTasks(t, s, tenantID); !slices.Equal(got, ids) {
		t.Fatalf("leases of %s are of tasks %v, want %v", tenantID, got, ids)
	}
}

// testLeasePutWithin: a tenant's leases fill up to the limit and the next
// is refused with ErrTenantAtLimit and not written; the limit is the
// caller's, call by call; tenants are counted apart; LeaseDrop frees a
// slot; a task that has a lease (any attempt, any worker, any tenant, put
// by either method) is refused with ErrLeaseTaken, which wins over the
// limit; expired leases and LeasePut's count; leases are not events.
func testLeasePutWithin(t *testing.T, newStore Opener[LeaseStore]) {
	s := newStore(t, eventstore.Options{})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	later := now.Add(30 * time.Second)

	// Fill to the limit, then refuse.
	a := []eventstore.Lease{newLease(tenant, later), newLease(tenant, later), newLease(tenant, later)}
	for _, l := range a {
		putWithin(t, s, l, 3, nil)
	}
	over := newLease(tenant, later)
	putWithin(t, s, over, 3, eventstore.ErrTenantAtLimit)
	putWithin(t, s, over, 3, eventstore.ErrTenantAtLimit)
	putWithin(t, s, over, 1, eventstore.ErrTenantAtLimit)
	checkLeased(t, s, tenant, a...)

	// Other tenants are counted apart, and do not count here.
	b := newLease("tenant-b", later)
	putWithin(t, s, b, 1, nil)
	putWithin(t, s, newLease("tenant-b", later), 1, eventstore.ErrTenantAtLimit)
	upper := newLease("TENANT-A", later) // ids are case-sensitive
	putWithin(t, s, upper, 1, nil)
	putWithin(t, s, over, 3, eventstore.ErrTenantAtLimit)
	checkLeased(t, s, "tenant-b", b)

	// A higher limit (a plan upgraded) allows more.
	putWithin(t, s, over, 4, nil)
	a = append(a, over)
	checkLeased(t, s, tenant, a...)

	// Dropping a lease frees its slot; dropping another attempt does not.
	next := newLease(tenant, later)
	putWithin(t, s, next, 4, eventstore.ErrTenantAtLimit)
	if err := s.LeaseDrop(t.Context(), a[0].TaskID, 2); err != nil {
		t.Fatal(err)
	}
	putWithin(t, s, next, 4, eventstore.ErrTenantAtLimit)
	if err := s.LeaseDrop(t.Context(), a[0].TaskID, 1); err != nil {
		t.Fatal(err)
	}
	putWithin(t, s, next, 4, nil)
	a = append(a[1:], next)
	checkLeased(t, s, tenant, a...)

	// A task with a lease is taken, whoever holds it and whatever the
	// limit; ErrLeaseTaken wins over ErrTenantAtLimit.
	again := a[0]
	again.WorkerID, again.Attempt = "w2", 2
	putWithin(t, s, again, 100, eventstore.ErrLeaseTaken)
	putWithin(t, s, again, 4, eventstore.ErrLeaseTaken)
	putWithin(t, s, a[0], 100, eventstore.ErrLeaseTaken) // the same lease again
	elsewhere := b
	elsewhere.TenantID = tenant // a task leased under another tenant
	putWithin(t, s, elsewhere, 100, eventstore.ErrLeaseTaken)
	if got := allLeases(t, s)[a[0].TaskID]; got.WorkerID != "w1" || got.Attempt != 1 {
		t.Fatalf("a refused LeasePutWithin changed the lease: %+v", got)
	}
	checkLeased(t, s, tenant, a...)
	checkLeased(t, s, "tenant-b", b)

	// Expired leases count: a dead worker's task holds its slot until the
	// watchdog drops its lease.
	past := now.Add(-time.Hour)
	c := []eventstore.Lease{newLease("tenant-c", past), newLease("tenant-c", past)}
	putWithin(t, s, c[0], 2, nil)
	putWithin(t, s, c[1], 2, nil)
	putWithin(t, s, newLease("tenant-c", later), 2, eventstore.ErrTenantAtLimit)
	if got, err := s.LeasesExpired(t.Context(), now, 10); err != nil || len(got) != 2 {
		t.Fatalf("LeasesExpired(now) = %+v, %v; want tenant-c's 2 leases", got, err)
	}
	if err := s.LeaseDrop(t.Context(), c[0].TaskID, 1); err != nil {
		t.Fatal(err)
	}
	putWithin(t, s, newLease("tenant-c", later), 2, nil)

	// A lease put by LeasePut counts, and its task is taken.
	d := newLease("tenant-d", later)
	if err := s.LeasePut(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	putWithin(t, s, newLease("tenant-d", later), 1, eventstore.ErrTenantAtLimit)
	putWithin(t, s, d, 5, eventstore.ErrLeaseTaken)

	// A lease put within a limit is a lease like any other: renewed by its
	// holder, listed when expired with its time in UTC microseconds, dropped.
	e := newLease("tenant-e", baseTime)
	putWithin(t, s, e, 1, nil)
	got, ok := allLeases(t, s)[e.TaskID]
	want := e
	want.ExpiresAt = domain.NormalizeTime(baseTime)
	if !ok || got.TaskID != want.TaskID || got.TenantID != want.TenantID || got.WorkerID != want.WorkerID ||
		got.Attempt != want.Attempt || !got.ExpiresAt.Equal(want.ExpiresAt) || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("lease read back as %+v (found %t), want %+v", got, ok, want)
	}
	if ok, err := s.LeaseRenew(t.Context(), e.TaskID, e.WorkerID, e.Attempt, later); err != nil || !ok {
		t.Fatalf("LeaseRenew of a lease put within a limit: %t, %v", ok, err)
	}
	if err := s.LeaseDrop(t.Context(), e.TaskID, e.Attempt); err != nil {
		t.Fatal(err)
	}
	checkLeased(t, s, "tenant-e")

	// A limit beyond any count is fine.
	putWithin(t, s, newLease("tenant-f", later), math.MaxInt, nil)

	// Not events: the feed holds nothing.
	expectFeedLen(t, s, 0)
}

// testLeasePutWithinConcurrent: of 20 calls at once for 20 tasks of one
// tenant with a limit of 3, exactly 3 succeed, and only their leases are
// stored; another tenant's 20 calls at the same time get their own 3; of
// 10 calls at once for one task, by 10 workers, exactly 1 succeeds.
func testLeasePutWithinConcurrent(t *testing.T, newStore Opener[LeaseStore]) {
	s := newStore(t, eventstore.Options{})
	const callers, limit = 20, 3
	expires := time.Date(2026, 11, 25, 12, 0, 30, 0, time.UTC)
	tenants := []string{tenant, "tenant-b"}

	type result struct {
		lease eventstore.Lease
		err   error
	}
	results := make(chan result, callers*len(tenants))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, tn := range tenants {
		for range callers {
			l := newLease(tn, expires)
			wg.Go(func() {
				<-start
				results <- result{l, s.LeasePutWithin(t.Context(), l, limit)}
			})
		}
	}
	close(start)
	wg.Wait()
	close(results)
	granted := map[string][]eventstore.Lease{}
	refused := map[string]int{}
	for r := range results {
		switch {
		case r.err == nil:
			granted[r.lease.TenantID] = append(granted[r.lease.TenantID], r.lease)
		case errors.Is(r.err, eventstore.ErrTenantAtLimit):
			refused[r.lease.TenantID]++
		default:
			t.Fatalf("concurrent LeasePutWithin: %v, want nil or ErrTenantAtLimit", r.err)
		}
	}
	for _, tn := range tenants {
		if len(granted[tn]) != limit || refused[tn] != callers-limit {
			t.Fatalf("%s: %d leases granted and %d refused, want %d and %d", tn, len(granted[tn]), refused[tn], limit, callers-limit)
		}
		checkLeased(t, s, tn, granted[tn]...)
	}

	// One task, many workers: one lease.
	const workers = 10
	task := newLease("tenant-c", expires)
	errs := make(chan error, workers)
	start = make(chan struct{})
	for i := range workers {
		l := task
		l.WorkerID = fmt.Sprintf("w%d", i)
		wg.Go(func() {
			<-start
			errs <- s.LeasePutWithin(t.Context(), l, workers)
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, eventstore.ErrLeaseTaken):
			t.Fatalf("concurrent LeasePutWithin of one task: %v, want nil or ErrLeaseTaken", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d workers leased the same task, want 1", won, workers)
	}
	checkLeased(t, s, "tenant-c", task)
}

// testLeasePutWithinValidation: invalid arguments fail with a
// *domain.ValidationError naming the field, match neither refusal, and
// write nothing.
func testLeasePutWithinValidation(t *testing.T, newStore Opener[LeaseStore]) {
	s := newStore(t, eventstore.Options{})
	valid := newLease(tenant, baseTime)
	for name, tc := range map[string]struct {
		edit  func(l *eventstore.Lease)
		limit int
		field string
	}{
		"limit 0":             {func(*eventstore.Lease) {}, 0, "limit"},
		"negative limit":      {func(*eventstore.Lease) {}, -1, "limit"},
		"smallest limit":      {func(*eventstore.Lease) {}, math.MinInt, "limit"},
		"empty task id":       {func(l *eventstore.Lease) { l.TaskID = "" }, 1, "task_id"},
		"task id too long":    {func(l *eventstore.Lease) { l.TaskID = strings.Repeat("t", domain.MaxIdentifierLen+1) }, 1, "task_id"},
		"empty tenant id":     {func(l *eventstore.Lease) { l.TenantID = "" }, 1, "tenant_id"},
		"control character":   {func(l *eventstore.Lease) { l.TenantID = "tenant\n" }, 1, "tenant_id"},
		"not UTF-8":           {func(l *eventstore.Lease) { l.TenantID = "tenant-\xff" }, 1, "tenant_id"},
		"empty worker id":     {func(l *eventstore.Lease) { l.WorkerID = "" }, 1, "worker_id"},
		"attempt 0":           {func(l *eventstore.Lease) { l.Attempt = 0 }, 1, "attempt"},
		"negative attempt":    {func(l *eventstore.Lease) { l.Attempt = -1 }, 1, "attempt"},
		"zero expiry":         {func(l *eventstore.Lease) { l.ExpiresAt = time.Time{} }, 1, "expires_at"},
		"expiry after 9999":   {func(l *eventstore.Lease) { l.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, 1, "expires_at"},
		"invalid and limit 0": {func(l *eventstore.Lease) { l.TaskID = "" }, 0, "task_id"},
	} {
		t.Run(name, func(t *testing.T) {
			l := valid
			tc.edit(&l)
			err := s.LeasePutWithin(t.Context(), l, tc.limit)
			checkValidation(t, err, tc.field)
			if errors.Is(err, eventstore.ErrLeaseTaken) || errors.Is(err, eventstore.ErrTenantAtLimit) {
				t.Errorf("validation error %q also matches a refusal", err)
			}
		})
	}
	if got := allLeases(t, s); len(got) != 0 {
		t.Fatalf("failed calls stored leases: %+v", got)
	}
	putWithin(t, s, valid, 1, nil)
}
