package client_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testwait"
)

// A Feed follows the tenant's events in commit order across pages,
// through a server that fails for a while, and resumes after the last
// position it gave; it sees none of another tenant's.
func TestFollowTheTenantFeed(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		c := b.client(t, tenantA)
		for range 3 {
			start(t, c, mockArgs)
		}
		start(t, b.client(t, tenantB), mockArgs)
		// Each start appends task.created and task.queued.
		feed := c.Follow(ctx, client.FeedOptions{After: -1, Limit: 2, PollInterval: 20 * time.Millisecond})
		var got []domain.Event
		for len(got) < 3 {
			e, err := feed.Next()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		fails := 0
		b.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/v1/events" && fails < 3 {
				fails++
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
			return false
		})
		resumed := c.Follow(ctx, client.FeedOptions{After: feed.LastPosition(), PollInterval: 20 * time.Millisecond})
		for len(got) < 6 {
			e, err := resumed.Next()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		for i, e := range got {
			if e.TenantID != b.owners[tenantA].TenantID || e.StreamType != domain.StreamTask || (i > 0 && e.Position <= got[i-1].Position) {
				t.Fatalf("event %d: tenant %s, position %d after %d", i, e.TenantID, e.Position, got[max(i-1, 0)].Position)
			}
		}
		if fails != 3 {
			t.Errorf("the feed met %d failures, want 3 retried", fails)
		}
	})
}

// A Feed from FeedNow skips what the feed held when it first read it, and
// yields what comes after; its Cursor is a position from then on.
func TestFollowTheTenantFeedFromNow(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		c := b.client(t, tenantA)
		before := start(t, c, mockArgs)
		// "Now" is a feed position: wait until the feed holds before's
		// creation (on Postgres the sealer places it a moment after its
		// commit; until then it is not in the feed).
		inFeed := func() bool {
			page, err := c.TenantEvents(ctx, client.FeedOptions{After: -1, Types: []domain.EventType{domain.TaskCreatedType}})
			return err == nil && len(page.Events) == 1 && page.Events[0].StreamID == before.TaskID.String()
		}
		testwait.For(t, "the feed to hold the first task's creation", inFeed)
		asked := make(chan struct{})
		var once sync.Once
		b.setFault(func(_ http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/v1/events" && r.URL.Query().Get("after") == client.FeedNow {
				once.Do(func() { close(asked) })
			}
			return false
		})
		// Cursor wins over After, whatever After holds (here a position far
		// past the feed's end, as a stale configuration might).
		feed := c.Follow(ctx, client.FeedOptions{Cursor: client.FeedNow, After: 1 << 40, Types: []domain.EventType{domain.TaskCreatedType}, PollInterval: 20 * time.Millisecond})
		// The hook runs before the server reads the feed's end, so the
		// first tasks started after it may still come before that end:
		// start one every 50 ms until the feed yields one.
		var mu sync.Mutex
		after := map[string]bool{}
		var startErr error
		stop := make(chan struct{})
		started := make(chan struct{})
		go func() {
			defer close(started)
			select {
			case <-asked:
			case <-stop:
				return
			}
			for {
				st, err := c.StartTask(ctx, client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: mockArgs, Timeout: time.Minute})
				mu.Lock()
				after[st.TaskID.String()], startErr = err == nil, err
				mu.Unlock()
				if err != nil {
					cancel() // Next would wait for a task without end
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
			}
		}()
		e, err := feed.Next()
		close(stop)
		<-started
		if startErr != nil {
			t.Fatalf("start a task after the first read: %v", startErr)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !after[e.StreamID] {
			t.Fatalf("the first task.created from now is of task %s, not of one started after the first read (%s was started before it)", e.StreamID, before.TaskID)
		}
		if feed.Cursor() != strconv.FormatInt(e.Position, 10) || feed.LastPosition() != e.Position {
			t.Errorf("cursor %q and last position %d after the event at %d", feed.Cursor(), feed.LastPosition(), e.Position)
		}
	})
}

// A Feed with Projections yields, before each task event, the task's row
// after it and, for a task's creation, the usage it adds, typed; a
// consumer that stops at random frames and starts again from Cursor sees
// every frame once, in order, and none of another tenant's.
func TestFollowTheTenantFeedWithProjections(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		c := b.client(t, tenantA)
		mine := map[uuid.UUID]bool{}
		for range 3 {
			mine[start(t, c, mockArgs).TaskID] = true
		}
		start(t, b.client(t, tenantB), mockArgs)
		// Read until every task's row has ended, stopping at random frames
		// and starting again from the cursor.
		var got []client.FeedFrame
		ended := map[uuid.UUID]bool{}
		cursor := "-1"
		for len(ended) < 3 {
			feed := c.Follow(ctx, client.FeedOptions{Cursor: cursor, Limit: 1 + rand.IntN(3), Projections: true, PollInterval: 20 * time.Millisecond})
			for n := 1 + rand.IntN(4); n > 0 && len(ended) < 3; n-- {
				fr, err := feed.NextFrame()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fr)
				if fr.Projection != nil && fr.Projection.Task != nil && fr.Projection.Task.State.Terminal() {
					ended[fr.Projection.Task.TaskID] = true
				}
			}
			cursor = feed.Cursor()
		}
		// The same frames, read in one go.
		once := c.Follow(ctx, client.FeedOptions{After: -1, Projections: true})
		for i := range got {
			fr, err := once.NextFrame()
			if err != nil {
				t.Fatal(err)
			}
			if fr.ID != got[i].ID || fr.Projection == nil != (got[i].Projection == nil) {
				t.Fatalf("frame %d: %s read in one go, %s with restarts", i, fr.ID, got[i].ID)
			}
		}
		rows := map[uuid.UUID]api.Task{}
		tasksStarted := int64(0)
		seen := map[string]bool{}
		for i, fr := range got {
			if seen[fr.ID] || (i > 0 && fr.Position < got[i-1].Position) {
				t.Fatalf("frame %d (%s) repeats or goes back", i, fr.ID)
			}
			seen[fr.ID] = true
			switch {
			case fr.Event != nil:
				if fr.Event.TenantID != b.owners[tenantA].TenantID || !mine[uuid.MustParse(fr.Event.StreamID)] {
					t.Fatalf("frame %s: an event of tenant %s's stream %s", fr.ID, fr.Event.TenantID, fr.Event.StreamID)
				}
			case fr.Projection.Type == api.ProjectionTaskType:
				if !mine[fr.Projection.Task.TaskID] {
					t.Fatalf("frame %s: the row of task %s, not one of A's", fr.ID, fr.Projection.Task.TaskID)
				}
				rows[fr.Projection.Task.TaskID] = *fr.Projection.Task
			case fr.Projection.Type == api.ProjectionUsageType:
				tasksStarted += fr.Projection.Usage.TasksStarted
			}
		}
		if len(rows) != 3 || tasksStarted != 3 {
			t.Fatalf("rows of %d tasks and %d tasks started, want 3 and 3", len(rows), tasksStarted)
		}
		for id, row := range rows {
			if !row.State.Terminal() || row.Name != "t" || row.EndedAt.IsZero() {
				t.Errorf("task %s's last row %+v, want it ended", id, row)
			}
		}
	})
}
