package storetest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// mark marks a task waiting and fails the test on an error.
func mark(t *testing.T, s eventstore.WaitingStore, taskID, tenantID string, since time.Time) {
	t.Helper()
	if err := s.TaskWaitingMark(t.Context(), taskID, tenantID, since); err != nil {
		t.Fatalf("TaskWaitingMark(%s, %s, %s): %v", taskID, tenantID, since, err)
	}
}

// unmark unmarks a waiting task and fails the test on an error.
func unmark(t *testing.T, s eventstore.WaitingStore, taskID string) {
	t.Helper()
	if err := s.TaskWaitingUnmark(t.Context(), taskID); err != nil {
		t.Fatalf("TaskWaitingUnmark(%s): %v", taskID, err)
	}
}

// checkWaiting fails the test unless TaskWaitingList(tenantID, limit) returns
// exactly want, in order, with times in UTC.
func checkWaiting(t *testing.T, s eventstore.WaitingStore, tenantID string, limit int, want ...eventstore.WaitingTask) {
	t.Helper()
	got, err := s.TaskWaitingList(t.Context(), tenantID, limit)
	if err != nil {
		t.Fatalf("TaskWaitingList(%q, %d): %v", tenantID, limit, err)
	}
	if !sameWaitingTasks(got, want) {
		t.Fatalf("TaskWaitingList(%q, %d) =\n  %v\nwant\n  %v", tenantID, limit, got, want)
	}
}

// sameWaitingTasks reports whether got is exactly want, in order, with times
// in UTC.
func sameWaitingTasks(got, want []eventstore.WaitingTask) bool {
	return slices.EqualFunc(got, want, func(g, w eventstore.WaitingTask) bool {
		return g.TaskID == w.TaskID && g.TenantID == w.TenantID && g.Since.Equal(w.Since) && g.Since.Location() == time.UTC
	})
}

// waiting returns a WaitingTask with since normalized as a store keeps it.
func waiting(taskID, tenantID string, since time.Time) eventstore.WaitingTask {
	return eventstore.WaitingTask{TaskID: taskID, TenantID: tenantID, Since: domain.NormalizeTime(since)}
}

// testTaskWaitingList: marked tasks are listed oldest first (since, then task
// id in byte order), of every tenant or of one; marking again keeps the
// first row; unmarking forgets a task and is a no-op for one not marked;
// waiting tasks are not events.
func testTaskWaitingList(t *testing.T, newStore Opener[WaitingStore]) {
	s := newStore(t, eventstore.Options{})
	checkWaiting(t, s, "", 0)
	checkWaiting(t, s, tenant, 0)

	// baseTime has nanoseconds and is not UTC: kept as UTC microseconds.
	w := []eventstore.WaitingTask{
		waiting("task-2", "tenant-b", baseTime),
		waiting("task-3", tenant, baseTime.Add(time.Second)),
		waiting("task-1", tenant, baseTime.Add(2*time.Second)),
		waiting("task-B", "tenant-b", baseTime.Add(3*time.Second)), // ties sort in byte order:
		waiting("task-a", tenant, baseTime.Add(3*time.Second)),     // "B" (0x42) before "a" (0x61)
	}
	for _, i := range []int{2, 0, 4, 1, 3} {
		mark(t, s, w[i].TaskID, w[i].TenantID, baseTime.Add(w[i].Since.Sub(w[0].Since)))
	}
	checkWaiting(t, s, "", 0, w...)
	checkWaiting(t, s, tenant, 0, w[1], w[2], w[4])
	checkWaiting(t, s, "tenant-b", 0, w[0], w[3])
	checkWaiting(t, s, "tenant-c", 0)
	checkWaiting(t, s, "TENANT-A", 0) // ids are case-sensitive
	checkWaiting(t, s, "", 2, w[0], w[1])
	checkWaiting(t, s, tenant, 1, w[1])
	checkWaiting(t, s, "", eventstore.MaxWaitingTasksLimit, w...)

	// Marking again is a no-op: a task keeps its first since (earlier or
	// later) and its tenant.
	mark(t, s, "task-1", tenant, baseTime.Add(time.Hour))
	mark(t, s, "task-1", tenant, baseTime.Add(-time.Hour))
	mark(t, s, "task-1", "tenant-b", baseTime.Add(2*time.Second))
	checkWaiting(t, s, "", 0, w...)
	checkWaiting(t, s, "tenant-b", 0, w[0], w[3])

	// Unmarking forgets a task; unmarking one not marked is a no-op.
	unmark(t, s, "task-3")
	unmark(t, s, "task-3")
	unmark(t, s, "task-never-marked")
	checkWaiting(t, s, "", 0, w[0], w[2], w[3], w[4])
	checkWaiting(t, s, tenant, 0, w[2], w[4])

	// Marked again after an unmark, a task waits anew.
	mark(t, s, "task-3", tenant, baseTime.Add(time.Minute))
	checkWaiting(t, s, tenant, 0, w[2], w[4], waiting("task-3", tenant, baseTime.Add(time.Minute)))

	// The first and the last time a store keeps.
	first := time.Date(1, 1, 1, 12, 0, 0, 0, time.UTC)
	last := time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	mark(t, s, "task-first", "tenant-d", first)
	mark(t, s, "task-last", "tenant-d", last)
	checkWaiting(t, s, "tenant-d", 0, waiting("task-first", "tenant-d", first), waiting("task-last", "tenant-d", last))

	// Not events: the feed holds nothing.
	expectFeedLen(t, s, 0)
}

// testTaskWaitingListLimits: a limit <= 0 lists DefaultWaitingTasksLimit
// tasks, a limit up to MaxWaitingTasksLimit lists that many, and marks of
// one task at once leave one row with one of their times.
func testTaskWaitingListLimits(t *testing.T, newStore Opener[WaitingStore]) {
	s := newStore(t, eventstore.Options{})
	const n = eventstore.DefaultWaitingTasksLimit + 20
	all := make([]eventstore.WaitingTask, n)
	for i := range all {
		all[i] = waiting(fmt.Sprintf("task-%04d", i), tenant, baseTime) // one since: ordered by id
		mark(t, s, all[i].TaskID, tenant, baseTime)
	}
	checkWaiting(t, s, "", 0, all[:eventstore.DefaultWaitingTasksLimit]...)
	checkWaiting(t, s, tenant, -1, all[:eventstore.DefaultWaitingTasksLimit]...)
	checkWaiting(t, s, "", math.MinInt, all[:eventstore.DefaultWaitingTasksLimit]...)
	checkWaiting(t, s, "", eventstore.MaxWaitingTasksLimit, all...)
	checkWaiting(t, s, tenant, n-1, all[:n-1]...)
	checkWaiting(t, s, "", 1, all[0])

	// Concurrent marks of one task: one row, one of their times.
	const markers = 10
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range markers {
		wg.Go(func() {
			<-start
			if err := s.TaskWaitingMark(t.Context(), "task-raced", "tenant-r", baseTime.Add(time.Duration(i)*time.Second)); err != nil {
				t.Errorf("concurrent TaskWaitingMark: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	got, err := s.TaskWaitingList(t.Context(), "tenant-r", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].TaskID != "task-raced" {
		t.Fatalf("after %d concurrent marks of one task: %v, want one row", markers, got)
	}
	if d := got[0].Since.Sub(domain.NormalizeTime(baseTime)); d < 0 || d >= markers*time.Second || d%time.Second != 0 {
		t.Fatalf("after concurrent marks, since is %s: not one of the marks' times", got[0].Since)
	}
}

// testWaitingValidation: invalid arguments fail with a
// *domain.ValidationError naming the field, and write nothing.
func testWaitingValidation(t *testing.T, newStore Opener[WaitingStore]) {
	s := newStore(t, eventstore.Options{})
	long := strings.Repeat("t", domain.MaxIdentifierLen+1)
	for name, tc := range map[string]struct {
		taskID, tenantID string
		since            time.Time
		field            string
	}{
		"empty task id":       {"", tenant, baseTime, "task_id"},
		"task id too long":    {long, tenant, baseTime, "task_id"},
		"control character":   {"task\x00", tenant, baseTime, "task_id"},
		"empty tenant id":     {"task-1", "", baseTime, "tenant_id"},
		"tenant not UTF-8":    {"task-1", "tenant-\xff", baseTime, "tenant_id"},
		"zero since":          {"task-1", tenant, time.Time{}, "since"},
		"year after 9999":     {"task-1", tenant, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "since"},
		"year before 1 (UTC)": {"task-1", tenant, time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 60*60)), "since"},
	} {
		t.Run("TaskWaitingMark/"+name, func(t *testing.T) {
			checkValidation(t, s.TaskWaitingMark(t.Context(), tc.taskID, tc.tenantID, tc.since), tc.field)
		})
	}
	for name, taskID := range map[string]string{"empty": "", "too long": long, "not UTF-8": "task-\xff"} {
		t.Run("TaskWaitingUnmark/"+name, func(t *testing.T) {
			checkValidation(t, s.TaskWaitingUnmark(t.Context(), taskID), "task_id")
		})
	}
	for name, tc := range map[string]struct {
		tenantID string
		limit    int
		field    string
	}{
		"control character": {"tenant\n", 10, "tenant_id"},
		"tenant too long":   {long, 10, "tenant_id"},
		"limit above max":   {tenant, eventstore.MaxWaitingTasksLimit + 1, "limit"},
		"largest limit":     {"", math.MaxInt, "limit"},
	} {
		t.Run("TaskWaitingList/"+name, func(t *testing.T) {
			got, err := s.TaskWaitingList(t.Context(), tc.tenantID, tc.limit)
			checkValidation(t, err, tc.field)
			if got != nil {
				t.Errorf("a failed TaskWaitingList returned %v", got)
			}
		})
	}
	checkWaiting(t, s, "", 0)
}

// testWaitingClosed: every method on a closed store fails with ErrClosed.
func testWaitingClosed(t *testing.T, newStore Opener[WaitingStore]) {
	s := closedStore(t, newStore)
	ctx := t.Context()
	checkClosedCalls(t, map[string]func() error{
		"TaskWaitingMark":   func() error { return s.TaskWaitingMark(ctx, "task-1", tenant, baseTime) },
		"TaskWaitingUnmark": func() error { return s.TaskWaitingUnmark(ctx, "task-1") },
		"TaskWaitingList": func() error {
			_, err := s.TaskWaitingList(ctx, tenant, 10)
			return err
		},
	})
}
