package readapi_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/internal/testwait"
)

// waitUsage flushes the meter and waits for GET /v1/usage (with query) to
// satisfy done.
func (b *bundle) waitUsage(t *testing.T, tenant, query string, done func(wire.Usage) bool) wire.Usage {
	t.Helper()
	if err := b.meter.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	var u wire.Usage
	testwait.For(t, "the usage counters", func() bool {
		u = decode[wire.Usage](t, b.do(t, "GET", "/v1/usage"+query, tenant, ""), http.StatusOK)
		return done(u)
	})
	return u
}

// TestUsageCountsTasksAndStreams runs a task and reads its stream: the
// tenant's usage counts the task, its time, the stream and exactly the
// bytes the client received; the other tenant's is empty.
func TestUsageCountsTasksAndStreams(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{usage: true}, func(t *testing.T, b *bundle) {
		s := b.start(t)
		b.run(t, s.TaskID)
		var received int64
		for range 2 {
			resp := b.do(t, "GET", s.StreamURL, tenantA, "", "Accept", "text/event-stream")
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("stream: %d, %v", resp.StatusCode, err)
			}
			received += int64(len(body))
		}
		u := b.waitUsage(t, tenantA, "", func(u wire.Usage) bool { return u.StreamsOpened == 2 && u.TaskRunMS > 0 })
		month := time.Now().UTC().Format("2006-01")
		if u.Period != month || u.TasksStarted != 1 || u.BytesStreamed != received || u.OutputBytes == 0 || u.TaskMinutes != 1 || len(u.Days) != 1 {
			t.Errorf("usage %+v; want period %s, 1 task, 1 task-minute, %d bytes streamed, output bytes, one day", u, month, received)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		byDay := decode[wire.Usage](t, b.do(t, "GET", "/v1/usage?from="+today+"&to="+today, tenantA, ""), http.StatusOK)
		if byDay.Period != "" || byDay.UsageCounts != u.UsageCounts {
			t.Errorf("today's usage %+v, want the month's %+v", byDay, u)
		}
		other := decode[wire.Usage](t, b.do(t, "GET", "/v1/usage", tenantB, ""), http.StatusOK)
		if other.UsageCounts != (wire.UsageCounts{}) || len(other.Days) != 0 {
			t.Errorf("tenant B's usage %+v, want none", other)
		}
		past := decode[wire.Usage](t, b.do(t, "GET", "/v1/usage?period=2020-02", tenantA, ""), http.StatusOK)
		if past.From != "2020-02-01" || past.To != "2020-02-29" || past.TasksStarted != 0 {
			t.Errorf("usage of 2020-02: %+v", past)
		}
	})
}

func TestUsageRequests(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{usage: true}, func(t *testing.T, b *bundle) {
		for _, c := range []struct {
			query  string
			status int
			field  string
		}{
			{"?period=2026-13", http.StatusBadRequest, "period"},
			{"?period=2026-12&from=2026-12-01", http.StatusBadRequest, "period"},
			{"?from=2026-12-01", http.StatusBadRequest, "to"},
			{"?from=2026-12-05&to=2026-12-01", http.StatusBadRequest, "to"},
			{"?from=2025-01-01&to=2026-12-31", http.StatusBadRequest, "to"},
			{"?tenant_id=" + b.tenants[tenantB], http.StatusNotFound, "tenant_id"},
		} {
			p := decode[wire.Problem](t, b.do(t, "GET", "/v1/usage"+c.query, tenantA, ""), c.status)
			if p.Field != c.field {
				t.Errorf("%s: field %q, want %q (%s)", c.query, p.Field, c.field, p.Detail)
			}
		}
		decode[wire.Usage](t, b.do(t, "GET", "/v1/usage?tenant_id="+b.tenants[tenantA], tenantA, ""), http.StatusOK)
		decode[wire.Problem](t, b.do(t, "GET", "/v1/usage", "", ""), http.StatusUnauthorized)
	})
}
