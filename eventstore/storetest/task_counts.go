package storetest

import (
	"maps"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
)

// testTaskViewsCount: the read model's tasks of every tenant by state, and
// when the task queued the longest ago was queued (at its latest queuing,
// to the microsecond the store keeps); none and a zero time on an empty
// read model. The counts hold when the feed is applied in parts and after
// a rebuild. The task list's checkpoint is listed at its position.
func testTaskViewsCount(t *testing.T, newStore Opener[TaskCountStore]) {
	s := newStore(t, eventstore.Options{})
	check := func(what string, want projections.TaskCounts) {
		t.Helper()
		got, err := s.TaskViewsCount(t.Context())
		if err != nil {
			t.Fatalf("%s: TaskViewsCount: %v", what, err)
		}
		if !maps.Equal(got.ByState, want.ByState) || !got.OldestQueuedAt.Equal(want.OldestQueuedAt) {
			t.Fatalf("%s: TaskViewsCount = %+v, want %+v", what, got, want)
		}
	}
	check("empty", projections.TaskCounts{ByState: map[domain.TaskState]int64{}})

	old := baseTime // nanoseconds, not UTC: kept as UTC microseconds
	var feedLen int64
	for _, q := range []struct {
		id, tenant string
		at         time.Time
	}{{"task-q1", tenant, old.Add(time.Minute)}, {"task-q2", "tenant-b", old}, {"task-q3", tenant, old.Add(time.Hour)}} {
		_, stored := queueTask(t, s, q.id, q.tenant, q.at)
		feedLen += int64(len(stored))
	}
	for i, end := range []domain.EventType{"", domain.TaskSucceededType, domain.TaskSucceededType, domain.TaskFailedType} {
		_, stored := runTask(t, s, "task-r"+string(rune('a'+i)), "tenant-b", old.Add(-time.Hour), end)
		feedLen += int64(len(stored))
	}
	// Half the feed, then the rest: tasks whose events straddle the two
	// applies change state in the second, as the projection sees a task
	// move, so that counts kept as the rows are written (not by scanning
	// them) are tested on changes as well as on new rows.
	if err := s.TaskViewsApply(t.Context(), projections.TaskViewsName, 0, readFeed(t, s, feedLen)[:feedLen/2]); err != nil {
		t.Fatalf("TaskViewsApply of the feed's first half: %v", err)
	}
	check("half", projections.TaskCounts{
		ByState:        map[domain.TaskState]int64{domain.StateQueued: 3, domain.StateRunning: 2},
		OldestQueuedAt: domain.NormalizeTime(old),
	})
	project(t, s, feedLen)
	want := projections.TaskCounts{
		ByState:        map[domain.TaskState]int64{domain.StateQueued: 3, domain.StateRunning: 1, domain.StateSucceeded: 2, domain.StateFailed: 1},
		OldestQueuedAt: domain.NormalizeTime(old),
	}
	check("projected", want)
	rebuild(t, s, feedLen)
	check("rebuilt", want)
	next, err := s.CheckpointList(t.Context())
	if err != nil {
		t.Fatalf("CheckpointList: %v", err)
	}
	if next[projections.TaskViewsName] != feedLen {
		t.Fatalf("CheckpointList = %v; want %s at %d", next, projections.TaskViewsName, feedLen)
	}
}
