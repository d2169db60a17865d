package postgres

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/eventstore"
)

// TestGroupCommit: appends that arrive while a commit is in flight share
// the next one (one transaction, observed once), and an append whose insert
// fails in a shared commit fails alone: the others of its group commit.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var observed []int
	s, _ := openStore(t, Config{GroupCommits: 1, Options: eventstore.Options{ObserveCommitFunc: func(appends, _ int) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, appends)
	}}})
	release := make(chan struct{})
	var hookOnce sync.Once
	s.group.testHookBeforeWrite = func(int) { hookOnce.Do(func() { <-release }) }
	queued := func() int {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.queue)
	}
	inFlight := func() int {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return s.group.inFlight
	}

	// The first append holds the one commit slot; ten more queue behind it.
	var wg sync.WaitGroup
	appendAsync := func(stream eventstore.Stream, errs chan<- error) {
		wg.Go(func() {
			_, err := s.Append(t.Context(), stream, 0, outputEvents(1, 0))
			errs <- err
		})
	}
	first := make(chan error, 1)
	appendAsync(taskStream("t"), first)
	waitFor(t, "the first append to hold the commit", func() bool { return inFlight() == 1 })
	group := make(chan error, 10)
	for range 10 {
		appendAsync(taskStream("t"), group)
	}
	waitFor(t, "ten appends to queue", func() bool { return queued() == 10 })
	close(release)
	wg.Wait()
	close(group)
	for err := range group {
		if err != nil {
			t.Fatalf("append in a group: %v", err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(observed) != 2 || observed[1] != 10 {
		t.Fatalf("commits observed with %v appends, want [1 10]", observed)
	}
	observed = nil
	mu.Unlock()

	// Two appends to one new stream in one group: the second's insert
	// aborts the group's transaction, so each is written again alone; one
	// wins, the other conflicts, and the rest of the group commits.
	s.group.mu.Lock()
	s.group.inFlight = 1 // hold the slot, so that the next appends queue
	s.group.mu.Unlock()
	contested := taskStream("t")
	results := make(chan error, 6)
	appendAsync(contested, results)
	appendAsync(contested, results)
	for range 4 {
		appendAsync(taskStream("t"), results)
	}
	waitFor(t, "six appends to queue", func() bool { return queued() == 6 })
	s.group.mu.Lock()
	batch := s.group.takeLocked()
	s.group.mu.Unlock()
	s.group.run(batch)
	wg.Wait()
	close(results)
	var ok, conflicts int
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, eventstore.ErrConflict):
			conflicts++
		default:
			t.Fatalf("append: %v", err)
		}
	}
	if ok != 5 || conflicts != 1 {
		t.Fatalf("%d appends committed and %d conflicted, want 5 and 1", ok, conflicts)
	}
	if events, err := s.ReadStream(t.Context(), contested.ID, 0, 10); err != nil || len(events) != 1 {
		t.Fatalf("the contested stream holds %d events (%v), want 1", len(events), err)
	}
}

// TestGroupCommitLeases: claims that take leases share a group commit
// with other appends; a lease refused (the tenant at its limit) fails only
// its own claim, which then appends nothing.
func TestGroupCommitLeases(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var observed []int
	s, _ := openStore(t, Config{GroupCommits: 1, Options: eventstore.Options{ObserveCommitFunc: func(appends, _ int) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, appends)
	}}})
	first, second, plain := taskStream("t"), taskStream("t"), taskStream("t")
	for _, st := range []eventstore.Stream{first, second, plain} {
		if _, err := s.Append(t.Context(), st, 0, outputEvents(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	s.group.mu.Lock()
	s.group.inFlight = 1 // hold the slot, so that the next appends queue
	s.group.mu.Unlock()
	queued := func() int {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.queue)
	}
	lease := func(st eventstore.Stream) eventstore.Lease {
		return eventstore.Lease{TaskID: st.ID, TenantID: st.TenantID, WorkerID: "w1", Attempt: 1, ExpiresAt: time.Now().Add(time.Minute)}
	}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() { _, errs[0] = s.AppendLeaseTake(t.Context(), first, 1, outputEvents(1, 1), lease(first), 1) })
	waitFor(t, "the first claim to queue", func() bool { return queued() == 1 })
	wg.Go(func() { _, errs[1] = s.AppendLeaseTake(t.Context(), second, 1, outputEvents(1, 1), lease(second), 1) })
	wg.Go(func() { _, errs[2] = s.Append(t.Context(), plain, 1, outputEvents(1, 1)) })
	waitFor(t, "three appends to queue", func() bool { return queued() == 3 })
	mu.Lock()
	observed = nil
	mu.Unlock()
	s.group.mu.Lock()
	batch := s.group.takeLocked()
	s.group.mu.Unlock()
	s.group.run(batch)
	wg.Wait()
	if errs[0] != nil || !errors.Is(errs[1], eventstore.ErrTenantAtLimit) || errs[2] != nil {
		t.Fatalf("claims and append in one group: %v; want nil, ErrTenantAtLimit, nil", errs)
	}
	if events, _ := s.ReadStream(t.Context(), second.ID, 0, 10); len(events) != 1 {
		t.Fatalf("the refused claim appended: its stream holds %d events", len(events))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 1 || observed[0] != 2 {
		t.Fatalf("commits observed with %v appends, want [2]: one group commit", observed)
	}
}

// waitFor polls cond until it holds, or fails t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}
