package readapi_test

import (
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testidentity"
	"github.com/axontask/axontask/internal/testwait"
)

// tenantEventsPage is GET /v1/events's JSON.
type tenantEventsPage struct {
	Events    []domainEvent `json:"events"`
	NextAfter int64         `json:"next_after"`
}

// domainEvent decodes an event of a JSON page.
type domainEvent struct{ domain.Event }

func (e *domainEvent) UnmarshalJSON(b []byte) error { return e.Event.UnmarshalJSON(b) }

// TestTenantEvents: GET /v1/events serves a tenant its own events only, in
// feed order, page by page and as a stream that a consumer disconnecting
// at random points follows without missing or repeating one; a tasks key
// gets task streams only, an admin its tenant's streams too, nobody the
// user and session streams.
func TestTenantEvents(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		var ids []string
		for range 3 {
			s := b.start(t)
			b.run(t, s.TaskID)
			ids = append(ids, s.TaskID)
		}
		decode[started](t, b.do(t, "POST", "/mcp/start_task", tenantB, `{"name":"b","adapter":"mock","args":`+mockArgs+`,"timeout_s":60}`), http.StatusCreated)
		// A's task events, once every task ended.
		var want []domain.Event
		testwait.For(t, "A's tasks to end", func() bool {
			want = want[:0]
			for _, id := range ids {
				page := decode[struct {
					Events []domainEvent `json:"events"`
					Ended  bool          `json:"ended"`
				}](t, b.do(t, "GET", "/v1/tasks/"+id+"/events?limit=1000", tenantA, ""), http.StatusOK)
				if !page.Ended {
					return false
				}
				for _, e := range page.Events {
					want = append(want, e.Event)
				}
			}
			return true
		})
		check := func(what string, got []domain.Event) {
			t.Helper()
			if len(got) != len(want) {
				t.Fatalf("%s: %d events, want A's %d task events", what, len(got), len(want))
			}
			seen := map[string]bool{}
			for i, e := range got {
				if e.TenantID != b.tenants[tenantA] || e.StreamType != domain.StreamTask || seen[e.EventID.String()] || (i > 0 && e.Position <= got[i-1].Position) {
					t.Fatalf("%s: event %d (%s of tenant %s at %d) is another tenant's, not a task's, repeated or out of order", what, i, e.Type, e.TenantID, e.Position)
				}
				seen[e.EventID.String()] = true
			}
			for _, e := range want {
				if !seen[e.EventID.String()] {
					t.Fatalf("%s: event %s/%d is missing", what, e.StreamID, e.Seq)
				}
			}
		}

		// JSON pages of 4, resumed by next_after (Postgres indexes the
		// feed asynchronously: read until every event came).
		var paged []domain.Event
		after := int64(-1)
		testwait.For(t, "every event paged", func() bool {
			for {
				page := decode[tenantEventsPage](t, b.do(t, "GET", "/v1/events?limit=4&after="+strconv.FormatInt(after, 10), tenantA, ""), http.StatusOK)
				for _, e := range page.Events {
					paged = append(paged, e.Event)
				}
				after = page.NextAfter
				if len(page.Events) < 4 {
					return len(paged) >= len(want)
				}
			}
		})
		check("JSON pages", paged)

		// A stream cut after a random number of frames, resumed with
		// Last-Event-ID each time.
		var streamed []domain.Event
		last := int64(-1)
		for conn := 0; len(streamed) < len(want) && conn < 200; conn++ {
			resp := b.do(t, "GET", "/v1/events", tenantA, "", "Accept", "text/event-stream", "Last-Event-ID", strconv.FormatInt(last, 10))
			s := openSSE(t, resp)
			for n := 1 + rand.IntN(5); n > 0 && len(streamed) < len(want); {
				f, ok := s.next()
				if !ok {
					t.Fatal("the stream ended")
				}
				if f.comment {
					continue
				}
				var e domain.Event
				if err := e.UnmarshalJSON([]byte(f.data)); err != nil || f.id != strconv.FormatInt(e.Position, 10) || f.event != string(e.Type) {
					t.Fatalf("frame %+v: %v", f, err)
				}
				streamed = append(streamed, e)
				last = e.Position
				n--
			}
			_ = resp.Body.Close()
		}
		check("a stream resumed at random points", streamed)

		// Filters, and who sees which streams.
		typed := decode[tenantEventsPage](t, b.do(t, "GET", "/v1/events?type=task.succeeded&type=task.failed&limit=100", tenantA, ""), http.StatusOK)
		if len(typed.Events) != 3 {
			t.Errorf("type=task.succeeded&type=task.failed: %d events, want the 3 tasks' ends", len(typed.Events))
		}
		if p := decode[map[string]any](t, b.do(t, "GET", "/v1/events?stream_type=tenant", tenantA, ""), http.StatusBadRequest); p["field"] != "stream_type" {
			t.Errorf("a tasks key asking for tenant streams: %v", p)
		}
		_, adminKey, err := testidentity.Tenant(t.Context(), b.identity, tenantA+"-admin", "admin")
		if err != nil {
			t.Fatal(err)
		}
		var all []domainEvent
		testwait.For(t, "the admin's own tenant events, its key's among them", func() bool {
			all = decode[tenantEventsPage](t, b.send(t, "GET", "/v1/events?limit=1000", "", "Authorization", "Bearer "+adminKey), http.StatusOK).Events
			// Postgres indexes the feed a moment after the commit.
			return slices.ContainsFunc(all, func(e domainEvent) bool { return e.StreamType == domain.StreamAPIKey })
		})
		for _, e := range all {
			if e.StreamType == domain.StreamUser || e.StreamType == domain.StreamSession {
				t.Fatalf("an admin got a %s event (%s)", e.StreamType, e.Type)
			}
		}
		if all[0].Type != domain.TenantCreatedType {
			t.Errorf("the admin's feed starts with %s, want tenant.created", all[0].Type)
		}
		// stream_type narrows what the admin sees: its tenant's own stream,
		// without the api_key stream of the admin's key.
		narrowed := decode[tenantEventsPage](t, b.send(t, "GET", "/v1/events?limit=1000&stream_type=tenant", "", "Authorization", "Bearer "+adminKey), http.StatusOK).Events
		if len(narrowed) == 0 || len(narrowed) >= len(all) || slices.ContainsFunc(narrowed, func(e domainEvent) bool { return e.StreamType != domain.StreamTenant }) {
			t.Errorf("an admin's stream_type=tenant: %d events (of %d in all), or some not the tenant's; want the tenant stream's alone", len(narrowed), len(all))
		}
	})
}

// TestTenantEventsAfterNow: ?after=now starts at the feed's current end.
// A JSON page holds none of the events before it, and its next_after leads
// on from there; a stream sends only the events of a task started after it
// opened, from that task's task.created on.
func TestTenantEventsAfterNow(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		before := b.start(t)
		b.run(t, before.TaskID)
		// Postgres indexes the feed a moment after the commit.
		testwait.For(t, "the first task's end in the feed", func() bool {
			return len(decode[tenantEventsPage](t, b.do(t, "GET", "/v1/events?type=task.succeeded", tenantA, ""), http.StatusOK).Events) == 1
		})
		now := decode[tenantEventsPage](t, b.do(t, "GET", "/v1/events?after=now", tenantA, ""), http.StatusOK)
		if len(now.Events) != 0 || now.NextAfter < 0 {
			t.Fatalf("after=now: %d events, next_after %d; want none, and the feed's end", len(now.Events), now.NextAfter)
		}

		resp := b.do(t, "GET", "/v1/events?after=now&stream_type=task&type=task.created&type=task.succeeded", tenantA, "", "Accept", "text/event-stream")
		s := openSSE(t, resp)
		after := b.start(t)
		b.run(t, after.TaskID)
		for _, want := range []domain.EventType{domain.TaskCreatedType, domain.TaskSucceededType} {
			f, ok := s.next()
			for ok && f.comment {
				f, ok = s.next()
			}
			if !ok {
				t.Fatal("the stream ended")
			}
			var e domain.Event
			if err := e.UnmarshalJSON([]byte(f.data)); err != nil {
				t.Fatal(err)
			}
			if e.StreamID != after.TaskID || e.Type != want || f.id != strconv.FormatInt(e.Position, 10) {
				t.Fatalf("the stream after=now sent %s of %s (id %s), want %s of the task started after it opened", e.Type, e.StreamID, f.id, want)
			}
		}
		_ = resp.Body.Close()

		testwait.For(t, "the second task's end in the feed", func() bool {
			return len(decode[tenantEventsPage](t, b.do(t, "GET", "/v1/events?type=task.succeeded", tenantA, ""), http.StatusOK).Events) == 2
		})
		next := decode[tenantEventsPage](t, b.do(t, "GET", "/v1/events?limit=1000&after="+strconv.FormatInt(now.NextAfter, 10), tenantA, ""), http.StatusOK)
		if len(next.Events) == 0 {
			t.Fatal("the page after next_after of after=now is empty")
		}
		for _, e := range next.Events {
			if e.StreamID != after.TaskID {
				t.Fatalf("the page after next_after of after=now has %s of %s, which came before", e.Type, e.StreamID)
			}
		}
	})
}
