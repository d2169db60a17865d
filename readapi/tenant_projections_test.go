package readapi_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/readapi"
)

// feedFrame is one frame of GET /v1/events, from a stream or a JSON page,
// in a form that compares: its id, its type, the event's id or the
// projection change, and what it belongs to.
type feedFrame struct {
	id, typ    string
	eventID    string
	projection *wire.FeedProjection
	tenantID   string // of an event
}

func (f feedFrame) key() string {
	if f.projection != nil {
		b, _ := json.Marshal(f.projection)
		return f.id + " " + f.typ + " " + string(b)
	}
	return f.id + " " + f.typ + " " + f.eventID
}

// framePart orders the frames of one position: projection parts, then the
// event.
func framePart(id string) (int64, int) {
	pos, part, ok := strings.Cut(id, ".")
	n, _ := strconv.ParseInt(pos, 10, 64)
	if !ok {
		return n, 3
	}
	p, _ := strconv.Atoi(part)
	return n, p
}

// pageFrames returns a JSON page's frames in the order a stream sends them.
func pageFrames(t *testing.T, p wire.TenantEventPage) []feedFrame {
	t.Helper()
	var out []feedFrame
	for _, e := range p.Events {
		out = append(out, feedFrame{id: strconv.FormatInt(e.Position, 10), typ: string(e.Type), eventID: e.EventID.String(), tenantID: e.TenantID})
	}
	for i := range p.Projections {
		c := p.Projections[i]
		out = append(out, feedFrame{id: c.ID, typ: c.Type, projection: &c})
	}
	slices.SortStableFunc(out, func(a, b feedFrame) int {
		ap, apart := framePart(a.id)
		bp, bpart := framePart(b.id)
		if ap != bp {
			return int(ap - bp)
		}
		return apart - bpart
	})
	return out
}

// streamFrame decodes a frame of the SSE stream.
func streamFrame(t *testing.T, f frame) feedFrame {
	t.Helper()
	if strings.HasPrefix(f.event, "projection.") {
		var c wire.FeedProjection
		if err := json.Unmarshal([]byte(f.data), &c); err != nil || c.ID != f.id || c.Type != f.event {
			t.Fatalf("projection frame %+v: %v", f, err)
		}
		return feedFrame{id: f.id, typ: f.event, projection: &c}
	}
	var e domain.Event
	if err := e.UnmarshalJSON([]byte(f.data)); err != nil || f.id != strconv.FormatInt(e.Position, 10) || f.event != string(e.Type) {
		t.Fatalf("event frame %+v: %v", f, err)
	}
	return feedFrame{id: f.id, typ: f.event, eventID: e.EventID.String(), tenantID: e.TenantID}
}

// TestTenantEventsProjections: with include=projections, GET /v1/events
// carries, for each of the tenant's task events, the task's row as GET
// /v1/tasks shows it once the read model has caught up, and the usage
// increments that sum to GET /v1/usage; a stream cut at random frames and
// resumed with Last-Event-ID, and JSON pages resumed at random frame ids,
// see every frame exactly once, in order, the same as one read from the
// start, and none of another tenant's.
func TestTenantEventsProjections(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{list: true, usage: true}, func(t *testing.T, b *bundle) {
		var ids []string
		for range 3 {
			s := b.start(t)
			b.run(t, s.TaskID)
			ids = append(ids, s.TaskID)
		}
		other := decode[started](t, b.do(t, "POST", "/mcp/start_task", tenantB, `{"name":"b","adapter":"mock","args":`+mockArgs+`,"timeout_s":60}`), http.StatusCreated).TaskID
		b.waitList(t, tenantA, 3)
		var list wire.TaskPage
		testwait.For(t, "A's tasks to end", func() bool {
			list = decode[wire.TaskPage](t, b.do(t, "GET", "/v1/tasks?limit=100", tenantA, ""), http.StatusOK)
			return !slices.ContainsFunc(list.Tasks, func(x wire.Task) bool { return !x.State.Terminal() })
		})
		var taskEvents int
		for _, id := range ids {
			page := decode[wire.EventPage](t, b.do(t, "GET", "/v1/tasks/"+id+"/events?limit=1000", tenantA, ""), http.StatusOK)
			taskEvents += len(page.Events)
		}

		// The reference: every frame, read page by page from the start.
		var ref []feedFrame
		testwait.For(t, "every task event's frames", func() bool {
			ref = ref[:0]
			for after := "-1"; ; {
				page := decode[wire.TenantEventPage](t, b.do(t, "GET", "/v1/events?include=projections&limit=1000&after="+after, tenantA, ""), http.StatusOK)
				ref = append(ref, pageFrames(t, page)...)
				if len(page.Events) == 0 {
					break
				}
				after = strconv.FormatInt(page.NextAfter, 10)
			}
			return countEvents(ref) >= taskEvents
		})
		rows := map[string]wire.Task{}
		var sum wire.UsageCounts
		var taskFrames int
		for i, f := range ref {
			if i > 0 {
				pp, ppart := framePart(ref[i-1].id)
				p, part := framePart(f.id)
				if p < pp || (p == pp && part <= ppart) {
					t.Fatalf("frame %s follows %s", f.id, ref[i-1].id)
				}
			}
			switch {
			case f.projection == nil:
				if f.tenantID != b.tenants[tenantA] {
					t.Fatalf("frame %s is tenant %s's event", f.id, f.tenantID)
				}
			case f.typ == wire.ProjectionTaskType:
				id := f.projection.Task.TaskID.String()
				if id == other || !slices.Contains(ids, id) {
					t.Fatalf("frame %s is the row of task %s, not one of A's", f.id, id)
				}
				rows[id] = *f.projection.Task
				taskFrames++
			case f.typ == wire.ProjectionUsageType:
				u := f.projection.Usage.UsageCounts
				sum.TasksStarted += u.TasksStarted
				sum.TaskRunMS += u.TaskRunMS
				sum.OutputBytes += u.OutputBytes
			}
		}
		if taskFrames != taskEvents {
			t.Errorf("%d projection.task frames for %d task events", taskFrames, taskEvents)
		}
		for _, item := range list.Tasks {
			got, _ := json.Marshal(rows[item.TaskID.String()])
			want, _ := json.Marshal(item)
			if string(got) != string(want) {
				t.Errorf("the last projection.task of %s is %s; GET /v1/tasks lists %s", item.TaskID, got, want)
			}
		}
		b.waitUsage(t, tenantA, "", func(u wire.Usage) bool {
			return u.TasksStarted == sum.TasksStarted && u.TaskRunMS == sum.TaskRunMS && u.OutputBytes == sum.OutputBytes
		})
		t.Logf("%d frames: %d task events, %d task rows, usage increments summing to %+v", len(ref), taskEvents, taskFrames, sum)
		if sum.TasksStarted != 3 || sum.OutputBytes == 0 {
			t.Errorf("the usage increments sum to %+v; want 3 tasks started and their output", sum)
		}

		// A stream cut after a random number of frames, resumed with
		// Last-Event-ID each time.
		var streamed []feedFrame
		last := "-1"
		for conn := 0; len(streamed) < len(ref) && conn < 1000; conn++ {
			resp := b.do(t, "GET", "/v1/events?include=projections", tenantA, "", "Accept", "text/event-stream", "Last-Event-ID", last)
			s := openSSE(t, resp)
			for n := 1 + rand.IntN(4); n > 0 && len(streamed) < len(ref); {
				f, ok := s.next()
				if !ok {
					t.Fatal("the stream ended")
				}
				if f.comment {
					continue
				}
				streamed = append(streamed, streamFrame(t, f))
				last = f.id
				n--
			}
			_ = resp.Body.Close()
		}
		checkFrames(t, "a stream resumed at random frames", streamed, ref)

		// JSON pages, each cut at a random frame and resumed after it.
		var paged []feedFrame
		for after := "-1"; len(paged) < len(ref); {
			page := decode[wire.TenantEventPage](t, b.do(t, "GET", "/v1/events?include=projections&limit="+strconv.Itoa(1+rand.IntN(5))+"&after="+after, tenantA, ""), http.StatusOK)
			frames := pageFrames(t, page)
			if len(frames) == 0 {
				t.Fatalf("an empty page after %s with %d of %d frames", after, len(paged), len(ref))
			}
			frames = frames[:1+rand.IntN(len(frames))]
			paged = append(paged, frames...)
			after = frames[len(frames)-1].id
		}
		checkFrames(t, "JSON pages resumed at random frames", paged[:len(ref)], ref)

		// Filters: projection frames of one kind only; the task rows of
		// succeeded tasks' ends need include=projections.
		rowsOnly := decode[wire.TenantEventPage](t, b.do(t, "GET", "/v1/events?include=projections&type=projection.task&limit=1000", tenantA, ""), http.StatusOK)
		if len(rowsOnly.Events) != 0 || len(rowsOnly.Projections) != taskFrames {
			t.Errorf("type=projection.task: %d events and %d changes, want none and %d rows", len(rowsOnly.Events), len(rowsOnly.Projections), taskFrames)
		}
		if p := decode[map[string]any](t, b.do(t, "GET", "/v1/events?type=projection.task", tenantA, ""), http.StatusBadRequest); p["field"] != "type" {
			t.Errorf("type=projection.task without include: %v", p)
		}
		if p := decode[map[string]any](t, b.do(t, "GET", "/v1/events?include=rows", tenantA, ""), http.StatusBadRequest); p["field"] != "include" {
			t.Errorf("include=rows: %v", p)
		}
		if p := decode[map[string]any](t, b.do(t, "GET", "/v1/events?after=4.3", tenantA, ""), http.StatusBadRequest); p["field"] != "after" {
			t.Errorf("after=4.3: %v", p)
		}
		plain := decode[wire.TenantEventPage](t, b.do(t, "GET", "/v1/events?limit=1000", tenantA, ""), http.StatusOK)
		if plain.Projections != nil {
			t.Errorf("without include, the page has %d projection changes", len(plain.Projections))
		}
	})
}

func countEvents(frames []feedFrame) int {
	n := 0
	for _, f := range frames {
		if f.projection == nil {
			n++
		}
	}
	return n
}

// checkFrames fails unless got and want are the same frames, in order.
func checkFrames(t *testing.T, what string, got, want []feedFrame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i].key() != want[i].key() {
			t.Fatalf("%s: frame %d is %s, want %s", what, i, got[i].key(), want[i].key())
		}
	}
}

// watchedFeed is the store serving GET /v1/events, with the API's calls
// counted: reads, and waits, the positions waited for and how they ended.
type watchedFeed struct {
	readapi.TenantFeedReader
	reads, woken, other atomic.Int64
	mu                  sync.Mutex
	waited              []int64
}

func (w *watchedFeed) TenantFeedRead(ctx context.Context, q eventstore.TenantFeedQuery) ([]domain.Event, error) {
	w.reads.Add(1)
	return w.TenantFeedReader.TenantFeedRead(ctx, q)
}

func (w *watchedFeed) TenantFeedWait(ctx context.Context, pos int64) error {
	w.mu.Lock()
	w.waited = append(w.waited, pos)
	w.mu.Unlock()
	err := w.TenantFeedReader.TenantFeedWait(ctx, pos)
	if err == nil {
		w.woken.Add(1)
	} else {
		w.other.Add(1)
	}
	return err
}

// TestTenantEventsWakeOnCommit: an idle GET /v1/events stream wakes when
// the hub hears of its tenant's event (the relay publishes it once sealed)
// and the store's TenantFeedWait (WaitFeed on SQLite) has it final; it
// never wakes for another tenant's events. The frames arrive with no ping
// due (the ping interval is an hour), every read of the store but the
// first follows a wait that the store ended, and every position waited
// for is one of the tenant's events: nothing polls.
func TestTenantEventsWakeOnCommit(t *testing.T) {
	t.Parallel()
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			w := &watchedFeed{}
			b := bundleOn(t, e, setupOpts{relayOnly: true, pingInterval: time.Hour, wrapFeed: func(f readapi.TenantFeedReader) readapi.TenantFeedReader {
				w.TenantFeedReader = f
				return w
			}})
			resp := b.do(t, "GET", "/v1/events?include=projections", tenantA, "", "Accept", "text/event-stream")
			defer func() { _ = resp.Body.Close() }()
			s := openSSE(t, resp)
			testwait.For(t, "the stream's first read", func() bool { return w.reads.Load() > 0 })
			// Another tenant's task first, then one of A's.
			decode[started](t, b.do(t, "POST", "/mcp/start_task", tenantB, `{"name":"b","adapter":"mock","args":`+mockArgs+`,"timeout_s":60}`), http.StatusCreated)
			id := b.start(t).TaskID
			var got []string
			for len(got) < 3 {
				f, ok := s.next()
				if !ok {
					t.Fatal("the stream ended")
				}
				if f.comment {
					t.Fatalf("a ping (%+v) with the ping interval at an hour", f)
				}
				got = append(got, f.event)
				if fr := streamFrame(t, f); fr.projection != nil && fr.projection.Task != nil && fr.projection.Task.TaskID.String() != id {
					t.Fatalf("a row of task %s, want %s", fr.projection.Task.TaskID, id)
				}
			}
			if want := []string{wire.ProjectionTaskType, wire.ProjectionUsageType, string(domain.TaskCreatedType)}; !slices.Equal(got, want) {
				t.Fatalf("frames %v, want %v", got, want)
			}
			if w.other.Load() != 0 || w.woken.Load() < 1 {
				t.Fatalf("%d waits ended by the store, %d otherwise; want the frames to follow a wake-up", w.woken.Load(), w.other.Load())
			}
			if reads, woken := w.reads.Load(), w.woken.Load(); reads > woken+1 {
				t.Fatalf("%d reads of the store for %d wake-ups: the stream polls", reads, woken)
			}
			// The tenant's events include its identity events (the setup's
			// sign-up), which the relay may publish only once the stream
			// watches, though the listing leaves them out: the store says
			// whose event each waited position is.
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, pos := range w.waited {
				at, err := b.store.ReadFeed(t.Context(), pos, 1)
				if err != nil || len(at) != 1 || at[0].Position != pos || at[0].TenantID != b.tenants[tenantA] {
					t.Fatalf("the stream waited for position %d, not one of its tenant's events (%+v, %v)", pos, at, err)
				}
			}
		})
	}
}

// countingStore counts the events the API reads from streams.
type countingStore struct {
	readapi.Store
	events atomic.Int64
}

func (c *countingStore) ReadStream(ctx context.Context, streamID string, afterSeq int64, limit int) ([]domain.Event, error) {
	page, err := c.Store.ReadStream(ctx, streamID, afterSeq, limit)
	c.events.Add(int64(len(page)))
	return page, err
}

// TestTenantEventsProjectionsPageCost: a consumer paging through a long
// task's events with include=projections in small pages does not make
// the API read the task's stream again for every page (each page would
// otherwise derive the task's row from its start): the stream reads stay
// below the task's length.
func TestTenantEventsProjectionsPageCost(t *testing.T) {
	t.Parallel()
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			counter := &countingStore{}
			b := bundleOn(t, e, setupOpts{wrapStore: func(s readapi.Store) readapi.Store {
				counter.Store = s
				return counter
			}})
			resp := b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"long","adapter":"mock","args":{"steps":60,"interval_ms":1},"timeout_s":60}`)
			id := decode[started](t, resp, http.StatusCreated).TaskID
			b.run(t, id)
			var n int
			testwait.For(t, "the task to end", func() bool {
				page := decode[wire.EventPage](t, b.do(t, "GET", "/v1/tasks/"+id+"/events?limit=1000", tenantA, ""), http.StatusOK)
				n = len(page.Events)
				return page.Ended
			})
			var rows int
			testwait.For(t, "every event's frames", func() bool {
				counter.events.Store(0)
				rows = 0
				for after := "-1"; ; {
					page := decode[wire.TenantEventPage](t, b.do(t, "GET", "/v1/events?include=projections&type=projection.task&limit=5&after="+after, tenantA, ""), http.StatusOK)
					rows += len(page.Projections)
					if strconv.FormatInt(page.NextAfter, 10) == after {
						break
					}
					after = strconv.FormatInt(page.NextAfter, 10)
				}
				return rows == n
			})
			if read := counter.events.Load(); read >= int64(n) {
				t.Errorf("paging through %d events 5 at a time read %d events of the task's stream; want fewer than the task has", n, read)
			}
		})
	}
}
