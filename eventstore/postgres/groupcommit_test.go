package postgres

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testwait"
)

// TestGroupCommit: appends that arrive while a commit is in flight share
// the next one (one transaction, observed once), and an append whose insert
// fails in a shared commit fails alone: the others of its group commit.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var observed []int
	s := observedStore(t, &mu, &observed)
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
	testwait.For(t, "the first append to hold the commit", func() bool { return inFlight() == 1 })
	group := make(chan error, 10)
	for range 10 {
		appendAsync(taskStream("t"), group)
	}
	testwait.For(t, "ten appends to queue", func() bool { return queued() == 10 })
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
	testwait.For(t, "six appends to queue", func() bool { return queued() == 6 })
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

// TestGroupCommitLeaseDrops: attempts' ends that drop their leases share
// a group commit with other appends, and each drop happens with its own
// end.
func TestGroupCommitLeaseDrops(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var observed []int
	s := observedStore(t, &mu, &observed)
	first, second, plain := taskStream("t"), taskStream("t"), taskStream("t")
	for _, st := range []eventstore.Stream{first, second, plain} {
		if _, err := s.Append(t.Context(), st, 0, outputEvents(1, 0)); err != nil {
			t.Fatal(err)
		}
		if err := s.LeasePut(t.Context(), eventstore.Lease{TaskID: st.ID, TenantID: st.TenantID, WorkerID: "w1", Attempt: 1, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	s.group.mu.Lock()
	s.group.inFlight = 1 // hold the slot, so that the next appends queue
	s.group.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() { _, errs[0] = s.AppendLeaseDrop(t.Context(), first, 1, outputEvents(1, 1), 1) })
	wg.Go(func() { _, errs[1] = s.AppendLeaseDrop(t.Context(), second, 1, outputEvents(1, 1), 1) })
	wg.Go(func() { _, errs[2] = s.Append(t.Context(), plain, 1, outputEvents(1, 1)) })
	testwait.For(t, "three appends to queue", func() bool {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.queue) == 3
	})
	mu.Lock()
	observed = nil
	mu.Unlock()
	s.group.mu.Lock()
	batch := s.group.takeLocked()
	s.group.mu.Unlock()
	s.group.run(batch)
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || errs[2] != nil {
		t.Fatalf("ends and an append in one group: %v", errs)
	}
	leases, err := s.LeasesExpired(t.Context(), time.Now().Add(time.Hour), 10)
	if err != nil || len(leases) != 1 || leases[0].TaskID != plain.ID {
		t.Fatalf("leases after the group: %+v (%v); want only the plain append's task's", leases, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 1 || observed[0] != 3 {
		t.Fatalf("commits observed with %v appends, want [3]: one group commit", observed)
	}
}

// observedStore opens a store with one commit slot that records, in
// observed under mu, the appends of each commit it observes.
func observedStore(t *testing.T, mu *sync.Mutex, observed *[]int) *Store {
	t.Helper()
	s, _ := openStore(t, Config{GroupCommits: 1, Options: eventstore.Options{ObserveCommitFunc: func(appends, _ int) {
		mu.Lock()
		defer mu.Unlock()
		*observed = append(*observed, appends)
	}}})
	return s
}

// TestGroupCommitReservations: task start reservations that arrive while
// one commits share the next commit, one statement each in order, and the
// limit holds exactly across them.
func TestGroupCommitReservations(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{GroupCommits: 1})
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	groupOfTen(t, s.starts, 8, func(int) (bool, error) {
		_, reserved, err := s.TaskStartReserve(t.Context(), "t", day, 1, 8)
		return reserved, err
	})
	if n, err := s.TaskStartCount(t.Context(), "t", day); err != nil || n != 8 {
		t.Fatalf("count %d (%v), want 8", n, err)
	}
}

// TestGroupCommitLeasePuts: leases taken within a tenant's limit that
// arrive while one commits share the next commit, and the limit holds
// exactly across them.
func TestGroupCommitLeasePuts(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t, Config{GroupCommits: 1})
	groupOfTen(t, s.leases, 8, func(i int) (bool, error) {
		err := s.LeasePutWithin(t.Context(), eventstore.Lease{
			TaskID: fmt.Sprintf("task-%d", i), TenantID: "t", WorkerID: "w", Attempt: 1, ExpiresAt: time.Now().Add(time.Hour),
		}, 8)
		if errors.Is(err, eventstore.ErrTenantAtLimit) {
			return false, nil
		}
		return err == nil, err
	})
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM task_leases WHERE tenant_id = 't'`).Scan(&n); err != nil || n != 8 {
		t.Fatalf("%d leases (%v), want 8", n, err)
	}
}

// groupOfTen holds the commit of the first of eleven writes (try(0) …
// try(10), each reporting whether it got through) until the other ten
// queue on c, then fails t unless the ten went in one group commit and
// exactly want of the eleven got through.
func groupOfTen[T any](t *testing.T, c *committer[T], want int, try func(i int) (bool, error)) {
	t.Helper()
	var mu sync.Mutex
	var writes []int
	release := make(chan struct{})
	var once sync.Once
	c.testHookBeforeWrite = func(n int) {
		mu.Lock()
		writes = append(writes, n)
		mu.Unlock()
		once.Do(func() { <-release })
	}
	var wg sync.WaitGroup
	var ok atomic.Int32
	write := func(i int) {
		wg.Go(func() {
			through, err := try(i)
			if err != nil {
				t.Error(err)
			}
			if through {
				ok.Add(1)
			}
		})
	}
	write(0)
	testwait.For(t, "the first write to hold the commit", func() bool { mu.Lock(); defer mu.Unlock(); return len(writes) == 1 })
	for i := range 10 {
		write(i + 1)
	}
	testwait.For(t, "ten writes to queue", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 10
	})
	close(release)
	wg.Wait()
	if int(ok.Load()) != want {
		t.Fatalf("%d of 11 writes got through, want %d", ok.Load(), want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(writes) != 2 || writes[1] != 10 {
		t.Fatalf("group commits of %v writes, want [1 10]", writes)
	}
}
