package storetest

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// expectReserve reserves a task start and fails the test unless it returns
// (wantUsed, wantOK) without an error.
func expectReserve(t *testing.T, s eventstore.TaskStartStore, tenantID string, day time.Time, limit, wantUsed int, wantOK bool) {
	t.Helper()
	expectReserveN(t, s, tenantID, day, 1, limit, wantUsed, wantOK)
}

// expectReserveN reserves n task starts and fails the test unless it
// returns (wantUsed, wantOK) without an error.
func expectReserveN(t *testing.T, s eventstore.TaskStartStore, tenantID string, day time.Time, n, limit, wantUsed int, wantOK bool) {
	t.Helper()
	used, ok, err := s.TaskStartReserve(t.Context(), tenantID, day, n, limit)
	if err != nil {
		t.Fatalf("TaskStartReserve(%s, %s, %d, %d): %v", tenantID, day, n, limit, err)
	}
	if used != wantUsed || ok != wantOK {
		t.Fatalf("TaskStartReserve(%s, %s, %d, %d) = %d, %t; want %d, %t", tenantID, day, n, limit, used, ok, wantUsed, wantOK)
	}
}

// release releases a task start and fails the test on an error.
func release(t *testing.T, s eventstore.TaskStartStore, tenantID string, day time.Time) {
	t.Helper()
	releaseN(t, s, tenantID, day, 1)
}

// releaseN releases n task starts and fails the test on an error.
func releaseN(t *testing.T, s eventstore.TaskStartStore, tenantID string, day time.Time, n int) {
	t.Helper()
	if err := s.TaskStartRelease(t.Context(), tenantID, day, n); err != nil {
		t.Fatalf("TaskStartRelease(%s, %s, %d): %v", tenantID, day, n, err)
	}
}

// checkStarts fails the test unless TaskStartCount returns want.
func checkStarts(t *testing.T, s eventstore.TaskStartStore, tenantID string, day time.Time, want int) {
	t.Helper()
	got, err := s.TaskStartCount(t.Context(), tenantID, day)
	if err != nil {
		t.Fatalf("TaskStartCount(%s, %s): %v", tenantID, day, err)
	}
	if got != want {
		t.Errorf("TaskStartCount(%s, %s) = %d, want %d", tenantID, day, got, want)
	}
}

// testTaskStartReserve: reservations count up to the limit and are then
// refused with the count unchanged; the limit is the caller's, call by
// call; tenants and days are counted apart; the counts are not events.
func testTaskStartReserve(t *testing.T, newStore Opener[TaskStartStore]) {
	s := newStore(t, eventstore.Options{})
	day := baseTime // 2026-03-04, 03:06 UTC
	checkStarts(t, s, tenant, day, 0)

	for i := 1; i <= 3; i++ {
		expectReserve(t, s, tenant, day, 3, i, true)
	}
	expectReserve(t, s, tenant, day, 3, 3, false)
	expectReserve(t, s, tenant, day, 3, 3, false)
	checkStarts(t, s, tenant, day, 3)
	// Any time of the UTC day is the same day.
	endOfDay := time.Date(2026, 3, 4, 23, 59, 59, 999999999, time.UTC)
	expectReserve(t, s, tenant, endOfDay, 3, 3, false)
	checkStarts(t, s, tenant, time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), 3)

	// A higher limit (a plan upgraded during the day) allows more; a lower
	// one refuses and changes nothing.
	expectReserve(t, s, tenant, day, 5, 4, true)
	expectReserve(t, s, tenant, day, 2, 4, false)
	expectReserve(t, s, tenant, day, 1, 4, false)
	checkStarts(t, s, tenant, day, 4)

	// Other tenants and other days are counted apart.
	special := "tenant-<&>\"\\-é"
	expectReserve(t, s, "tenant-b", day, 1, 1, true)
	expectReserve(t, s, "tenant-b", day, 1, 1, false)
	expectReserve(t, s, "tenant-A", day, 1, 1, true) // ids are case-sensitive
	expectReserve(t, s, special, day, 2, 1, true)
	expectReserve(t, s, tenant, day.AddDate(0, 0, 1), 1, 1, true)
	expectReserve(t, s, tenant, day.AddDate(0, 0, -1), 2, 1, true)
	expectReserve(t, s, tenant, day.AddDate(1, 0, 0), 2, 1, true)
	checkStarts(t, s, tenant, day, 4)
	checkStarts(t, s, "tenant-b", day, 1)
	checkStarts(t, s, "tenant-A", day, 1)
	checkStarts(t, s, special, day, 1)
	checkStarts(t, s, tenant, day.AddDate(0, 0, 1), 1)
	checkStarts(t, s, tenant, day.AddDate(0, 0, -1), 1)
	checkStarts(t, s, tenant, day.AddDate(1, 0, 0), 1)
	checkStarts(t, s, tenant, day.AddDate(0, 0, 2), 0)
	checkStarts(t, s, "tenant-c", day, 0)
	checkStarts(t, s, "tenant-b", day.AddDate(0, 0, 1), 0)

	// A limit beyond what a store counts acts as its largest.
	expectReserve(t, s, "tenant-big", day, math.MaxInt, 1, true)
	expectReserve(t, s, "tenant-big", day, eventstore.MaxTaskStartsLimit, 2, true)

	// Not events: the feed holds nothing.
	expectFeedLen(t, s, 0)
}

// testTaskStartRelease: a release gives one start back, never takes a
// count below 0, creates nothing on a day without starts, and touches no
// other tenant or day.
func testTaskStartRelease(t *testing.T, newStore Opener[TaskStartStore]) {
	s := newStore(t, eventstore.Options{})
	day := baseTime

	// A day without starts: a no-op that leaves no count below 0 behind.
	release(t, s, tenant, day)
	checkStarts(t, s, tenant, day, 0)
	expectReserve(t, s, tenant, day, 1, 1, true)
	release(t, s, tenant, day)
	checkStarts(t, s, tenant, day, 0)

	for i := 1; i <= 3; i++ {
		expectReserve(t, s, tenant, day, 3, i, true)
	}
	expectReserve(t, s, tenant, day, 3, 3, false)
	release(t, s, tenant, day)
	checkStarts(t, s, tenant, day, 2)
	expectReserve(t, s, tenant, day, 3, 3, true)
	expectReserve(t, s, tenant, day, 3, 3, false)

	// Releases of another tenant or day leave this one alone.
	expectReserve(t, s, "tenant-b", day, 3, 1, true)
	release(t, s, "tenant-b", day)
	release(t, s, "tenant-b", day)
	release(t, s, "tenant-c", day)
	release(t, s, tenant, day.AddDate(0, 0, 1))
	checkStarts(t, s, tenant, day, 3)
	checkStarts(t, s, "tenant-b", day, 0)
	checkStarts(t, s, "tenant-c", day, 0)
	checkStarts(t, s, tenant, day.AddDate(0, 0, 1), 0)

	// Never below 0: more releases than starts end at 0, and the next
	// reservation counts 1.
	for range 5 {
		release(t, s, tenant, day)
	}
	checkStarts(t, s, tenant, day, 0)
	expectReserve(t, s, tenant, day, 1, 1, true)
	expectReserve(t, s, tenant, day, 1, 1, false)
}

// testTaskStartReserveMany: a reservation of n starts counts all n or
// none: it is refused whole when the sum would pass the limit (also on a
// day without starts), with the count that tells how many would still
// fit, and a release of n gives all n back, never below 0.
func testTaskStartReserveMany(t *testing.T, newStore Opener[TaskStartStore]) {
	s := newStore(t, eventstore.Options{})
	day := baseTime

	// On a day without starts: more than the limit is refused and creates
	// nothing; exactly the limit fits.
	expectReserveN(t, s, tenant, day, 11, 10, 0, false)
	checkStarts(t, s, tenant, day, 0)
	expectReserveN(t, s, tenant, day, 4, 10, 4, true)
	expectReserveN(t, s, tenant, day, 7, 10, 4, false) // 6 would fit
	checkStarts(t, s, tenant, day, 4)
	expectReserveN(t, s, tenant, day, 6, 10, 10, true)
	expectReserveN(t, s, tenant, day, 1, 10, 10, false)
	releaseN(t, s, tenant, day, 3)
	checkStarts(t, s, tenant, day, 7)
	expectReserveN(t, s, tenant, day, 3, 10, 10, true)
	releaseN(t, s, tenant, day, 25)
	checkStarts(t, s, tenant, day, 0)

	// The largest counts a store keeps add up without overflowing.
	expectReserveN(t, s, "tenant-big", day, eventstore.MaxTaskStartsLimit, math.MaxInt, eventstore.MaxTaskStartsLimit, true)
	expectReserveN(t, s, "tenant-big", day, eventstore.MaxTaskStartsLimit, math.MaxInt, eventstore.MaxTaskStartsLimit, false)
	expectReserveN(t, s, "tenant-big", day, 1, eventstore.MaxTaskStartsLimit, eventstore.MaxTaskStartsLimit, false)
	releaseN(t, s, "tenant-big", day, eventstore.MaxTaskStartsLimit)
	checkStarts(t, s, "tenant-big", day, 0)

	// Concurrent batches: of 20 batches of 7 with a limit of 50, exactly 7
	// fit (49), and the count is theirs.
	var wg sync.WaitGroup
	var granted atomic.Int64
	for range 20 {
		wg.Go(func() {
			_, ok, err := s.TaskStartReserve(t.Context(), "tenant-c", day, 7, 50)
			switch {
			case err != nil:
				t.Errorf("concurrent TaskStartReserve of 7: %v", err)
			case ok:
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if got := granted.Load(); got != 7 {
		t.Errorf("%d concurrent batches of 7 granted under a limit of 50, want 7", got)
	}
	checkStarts(t, s, "tenant-c", day, 49)
	expectFeedLen(t, s, 0)
}

// testTaskStartDayUTC: the day of a time is its UTC date, whatever its
// location, from 0001-01-01 to 9999-12-31.
func testTaskStartDayUTC(t *testing.T, newStore Opener[TaskStartStore]) {
	s := newStore(t, eventstore.Options{})
	utcMinus3 := time.FixedZone("UTC-3", -3*60*60)
	utcPlus14 := time.FixedZone("UTC+14", 14*60*60)

	late := time.Date(2026, 3, 4, 23, 30, 0, 0, utcMinus3) // 2026-03-05 02:30 UTC
	expectReserve(t, s, tenant, late, 10, 1, true)
	checkStarts(t, s, tenant, late, 1)
	checkStarts(t, s, tenant, time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC), 1)
	checkStarts(t, s, tenant, time.Date(2026, 3, 5, 23, 59, 59, 999999999, time.UTC), 1)
	checkStarts(t, s, tenant, time.Date(2026, 3, 4, 12, 0, 0, 0, utcMinus3), 0) // 15:00 UTC on the 4th
	checkStarts(t, s, tenant, time.Date(2026, 3, 4, 23, 59, 59, 0, time.UTC), 0)
	checkStarts(t, s, tenant, time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), 0)

	early := time.Date(2026, 3, 6, 1, 0, 0, 0, utcPlus14) // 2026-03-05 11:00 UTC
	expectReserve(t, s, tenant, early, 10, 2, true)
	checkStarts(t, s, tenant, time.Date(2026, 3, 6, 12, 0, 0, 0, utcPlus14), 2) // 2026-03-05 22:00 UTC
	checkStarts(t, s, tenant, time.Date(2026, 3, 6, 14, 0, 0, 0, utcPlus14), 0) // 2026-03-06 00:00 UTC
	release(t, s, tenant, time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC))
	checkStarts(t, s, tenant, late, 1)
	checkStarts(t, s, tenant, early, 1)

	if got := eventstore.TaskStartDay(late); !got.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("TaskStartDay(%s) = %s, want 2026-03-05 00:00 UTC", late, got)
	}

	// The first and the last day a store keeps.
	first := time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC) // not the zero time
	last := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	for _, day := range []time.Time{first, last} {
		expectReserve(t, s, tenant, day, 2, 1, true)
		expectReserve(t, s, tenant, day, 2, 2, true)
		expectReserve(t, s, tenant, day, 2, 2, false)
		release(t, s, tenant, day)
		checkStarts(t, s, tenant, day, 1)
	}
	checkStarts(t, s, tenant, first.AddDate(0, 0, 1), 0)
	checkStarts(t, s, tenant, last.AddDate(0, 0, -1), 0)
}

// testTaskStartReserveConcurrent: of 50 reservations at once with a limit
// of 10, exactly 10 succeed, each with its own count 1 … 10, and the others
// see 10; then releases and reservations at once never pass the limit and
// leave the count that their results add up to.
func testTaskStartReserveConcurrent(t *testing.T, newStore Opener[TaskStartStore]) {
	s := newStore(t, eventstore.Options{})
	const callers, limit = 50, 10
	day := baseTime

	type result struct {
		used int
		ok   bool
		err  error
	}
	results := make(chan result, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			<-start
			used, ok, err := s.TaskStartReserve(t.Context(), tenant, day, 1, limit)
			results <- result{used, ok, err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	granted := make(map[int]bool, limit)
	refused := 0
	for r := range results {
		switch {
		case r.err != nil:
			t.Fatalf("concurrent TaskStartReserve: %v", r.err)
		case !r.ok:
			refused++
			if r.used != limit {
				t.Errorf("a refused reservation returned count %d, want %d", r.used, limit)
			}
		case r.used < 1 || r.used > limit || granted[r.used]:
			t.Errorf("a granted reservation returned count %d: want each of 1 … %d once", r.used, limit)
		default:
			granted[r.used] = true
		}
	}
	if len(granted) != limit || refused != callers-limit {
		t.Fatalf("%d reservations granted and %d refused, want %d and %d", len(granted), refused, limit, callers-limit)
	}
	checkStarts(t, s, tenant, day, limit)

	// Releases racing reservations: a reservation succeeds only into a
	// start given back, so the count never passes the limit and ends at
	// limit - releases + granted.
	const releases, reservations = 5, 20
	var again atomic.Int64
	start = make(chan struct{})
	for range releases {
		wg.Go(func() {
			<-start
			if err := s.TaskStartRelease(t.Context(), tenant, day, 1); err != nil {
				t.Errorf("concurrent TaskStartRelease: %v", err)
			}
		})
	}
	for range reservations {
		wg.Go(func() {
			<-start
			used, ok, err := s.TaskStartReserve(t.Context(), tenant, day, 1, limit)
			switch {
			case err != nil:
				t.Errorf("concurrent TaskStartReserve: %v", err)
			case used < 0 || used > limit:
				t.Errorf("TaskStartReserve returned count %d (ok %t), outside 0 … %d", used, ok, limit)
			case ok:
				again.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := int(again.Load()); n > releases {
		t.Errorf("%d reservations granted after %d releases, want at most %d", n, releases, releases)
	}
	checkStarts(t, s, tenant, day, limit-releases+int(again.Load()))
}

// testTaskStartsValidation: invalid arguments fail with a
// *domain.ValidationError naming the field, and write nothing.
func testTaskStartsValidation(t *testing.T, newStore Opener[TaskStartStore]) {
	s := newStore(t, eventstore.Options{})
	for name, tc := range map[string]struct {
		tenantID string
		day      time.Time
		n, limit int
		field    string
	}{
		"limit 0":             {tenant, baseTime, 1, 0, "limit"},
		"negative limit":      {tenant, baseTime, 1, -1, "limit"},
		"smallest limit":      {tenant, baseTime, 1, math.MinInt, "limit"},
		"no starts":           {tenant, baseTime, 0, 1, "starts"},
		"negative starts":     {tenant, baseTime, -1, 1, "starts"},
		"too many starts":     {tenant, baseTime, eventstore.MaxTaskStartsLimit + 1, 1, "starts"},
		"empty tenant id":     {"", baseTime, 1, 1, "tenant_id"},
		"control character":   {"tenant\n", baseTime, 1, 1, "tenant_id"},
		"not UTF-8":           {"tenant-\xff", baseTime, 1, 1, "tenant_id"},
		"tenant id too long":  {strings.Repeat("t", domain.MaxIdentifierLen+1), baseTime, 1, 1, "tenant_id"},
		"zero day":            {tenant, time.Time{}, 1, 1, "day"},
		"year after 9999":     {tenant, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 1, 1, "day"},
		"year before 1 (UTC)": {tenant, time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 60*60)), 1, 1, "day"},
	} {
		t.Run(name, func(t *testing.T) {
			used, ok, err := s.TaskStartReserve(t.Context(), tc.tenantID, tc.day, tc.n, tc.limit)
			checkValidation(t, err, tc.field)
			if used != 0 || ok {
				t.Errorf("a failed TaskStartReserve returned %d, %t; want 0, false", used, ok)
			}
			if tc.field == "limit" {
				return
			}
			checkValidation(t, s.TaskStartRelease(t.Context(), tc.tenantID, tc.day, tc.n), tc.field)
			if tc.field == "starts" {
				return
			}
			_, err = s.TaskStartCount(t.Context(), tc.tenantID, tc.day)
			checkValidation(t, err, tc.field)
		})
	}
	checkStarts(t, s, tenant, baseTime, 0)
	expectReserve(t, s, tenant, baseTime, 1, 1, true)
}

// testTaskStartsClosed: every method on a closed store fails with ErrClosed.
func testTaskStartsClosed(t *testing.T, newStore Opener[TaskStartStore]) {
	s := closedStore(t, newStore)
	ctx := t.Context()
	checkClosedCalls(t, map[string]func() error{
		"TaskStartReserve": func() error {
			_, _, err := s.TaskStartReserve(ctx, tenant, baseTime, 1, 10)
			return err
		},
		"TaskStartRelease": func() error { return s.TaskStartRelease(ctx, tenant, baseTime, 1) },
		"TaskStartCount": func() error {
			_, err := s.TaskStartCount(ctx, tenant, baseTime)
			return err
		},
	})
}
