package readapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/teststores"
)

// batchBody returns the body of a batch of n mock tasks named t0, t1, …;
// task(i), when not empty, replaces task i.
func batchBody(n int, task func(i int) string) string {
	var b strings.Builder
	b.WriteString(`{"tasks":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		if s := task(i); s != "" {
			b.WriteString(s)
			continue
		}
		fmt.Fprintf(&b, `{"name":"t%d","adapter":"mock","args":{"steps":1,"interval_ms":0}}`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// noTask keeps every task of batchBody as it is.
func noTask(int) string { return "" }

type startedBatch struct {
	Tasks []started `json:"tasks"`
}

// taskStreams returns the count of the tenant's tasks in the feed.
func (b *bundle) taskStreams(t *testing.T, tenant string) int {
	t.Helper()
	return len(teststores.TaskStreams(t, b.store, b.tenants[tenant]))
}

// 1,000 tasks in one request: each one started, in the order of the
// request, with its own stream, token and two events; another tenant sees
// none of them.
func TestStartTasksBatch(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		head, err := b.store.FeedHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res := decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, batchBody(1000, noTask)), http.StatusCreated)
		if len(res.Tasks) != 1000 {
			t.Fatalf("%d tasks answered for 1000", len(res.Tasks))
		}
		seen := map[string]bool{}
		for i, st := range res.Tasks {
			if seen[st.TaskID] || st.StreamURL != "/mcp/tasks/"+st.TaskID+"/stream" || st.ResumeToken == "" {
				t.Fatalf("task %d answered %+v", i, st)
			}
			seen[st.TaskID] = true
			events, err := b.store.ReadStream(ctx, st.TaskID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 2 || events[0].Type != domain.TaskCreatedType || events[1].Type != domain.TaskQueuedType ||
				!strings.Contains(string(events[0].Payload), `"name":"t`+strconv.Itoa(i)+`"`) {
				t.Fatalf("task %d (%s) holds %d events: %v", i, st.TaskID, len(events), events)
			}
		}
		// Every event reaches the feed: 2,000 of them.
		if err := b.store.WaitFeed(ctx, head+2000-1); err != nil {
			t.Fatal(err)
		}
		first, last := res.Tasks[0], res.Tasks[999]
		if st := decode[status](t, b.do(t, "GET", "/mcp/tasks/"+last.TaskID+"/status?token="+last.ResumeToken, "", ""), http.StatusOK); st.State != "queued" {
			t.Fatalf("the last task is %s, want queued", st.State)
		}
		b.run(t, first.TaskID)
		checkSeqs(t, openSSE(t, b.do(t, "GET", first.StreamURL+"?token="+first.ResumeToken, "", "")).events(), 1)

		for _, path := range []string{"/mcp/tasks/" + first.TaskID + "/status", "/v1/tasks/" + last.TaskID + "/events"} {
			decode[map[string]any](t, b.do(t, "GET", path, tenantB, ""), http.StatusNotFound)
		}
		if n := b.taskStreams(t, tenantB); n != 0 {
			t.Fatalf("tenant B has %d task streams after tenant A's batch", n)
		}
	})
}

// One bad task, or a bad batch, answers 400 naming the task and its field,
// and starts nothing.
func TestStartTasksBatchRejects(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		at := func(j int, task string) func(int) string {
			return func(i int) string {
				if i == j {
					return task
				}
				return ""
			}
		}
		for _, c := range []struct {
			name, body string
			status     int
			field      string
		}{
			{"invalid args", batchBody(7, at(3, `{"name":"x","adapter":"mock","args":{"steps":-1}}`)), 400, "tasks[3].args.steps"},
			{"a timeout past the limit", batchBody(7, at(6, `{"name":"x","adapter":"mock","timeout_s":86401}`)), 400, "tasks[6].timeout_s"},
			{"no name", batchBody(3, at(1, `{"adapter":"mock"}`)), 400, "tasks[1].name"},
			{"wrong type", batchBody(5, at(2, `{"name":"x","adapter":"mock","timeout_s":"60"}`)), 400, "tasks[2].timeout_s"},
			{"unknown field of a task", batchBody(5, at(4, `{"name":"x","adapter":"mock","colour":1}`)), 400, "tasks[4].colour"},
			{"a task twice a member", batchBody(2, at(1, `{"name":"x","name":"y","adapter":"mock"}`)), 400, "tasks[1].name"},
			{"a null task", batchBody(2, at(0, `null`)), 400, "tasks[0]"},
			{"a task not an object", batchBody(2, at(1, `7`)), 400, "tasks[1]"},
			{"a key twice", batchBody(3, func(i int) string {
				return `{"name":"x","adapter":"mock","idempotency_key":"same"}`
			}), 400, "tasks[1].idempotency_key"},
			{"a bad key", batchBody(2, at(1, `{"name":"x","adapter":"mock","idempotency_key":"a\u0007b"}`)), 400, "tasks[1].idempotency_key"},
			{"1,001 tasks", batchBody(1001, noTask), 400, "tasks"},
			{"no tasks", `{"tasks":[]}`, 400, "tasks"},
			{"tasks missing", `{}`, 400, "tasks"},
			{"tasks not a list", `{"tasks":{}}`, 400, "tasks"},
			{"unknown field", `{"tasks":[],"mode":"x"}`, 400, "mode"},
			{"past 8 MiB", `{"tasks":[` + strings.Repeat(" ", 8<<20) + `]}`, 413, "body"},
		} {
			t.Run(c.name, func(t *testing.T) {
				resp := b.do(t, "POST", "/v1/tasks/batch", tenantA, c.body)
				p := decode[map[string]any](t, resp, c.status)
				if resp.Header.Get("Content-Type") != "application/problem+json" || p["detail"] == "" {
					t.Fatalf("not a problem: %v", p)
				}
				if c.field != "" && (p["field"] != c.field || !strings.HasPrefix(p["detail"].(string), c.field)) && c.status == 400 {
					t.Fatalf("field %v, want %q: %v", p["field"], c.field, p)
				}
			})
		}
		if n := b.taskStreams(t, tenantA); n != 0 {
			t.Fatalf("refused batches started %d tasks", n)
		}
		// A body past a single start's 1 MiB fits.
		big := batchBody(20, func(int) string {
			arg := strings.Repeat("x", 30<<10)
			return `{"name":"echo","adapter":"shell","args":{"command":["echo","` + arg + `","` + arg + `"]}}`
		})
		decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, big), http.StatusCreated)
	})
}

// A batch sent again with its Idempotency-Key answers the same tasks and
// starts none; a task's idempotency_key is a single start's Idempotency-Key.
func TestStartTasksBatchIdempotent(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		body := batchBody(50, noTask)
		first := decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, body, "Idempotency-Key", "backlog-1"), http.StatusCreated)
		again := decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, body, "Idempotency-Key", "backlog-1"), http.StatusCreated)
		for i := range first.Tasks {
			if first.Tasks[i] != again.Tasks[i] {
				t.Fatalf("task %d answered %+v, then %+v", i, first.Tasks[i], again.Tasks[i])
			}
		}
		if n := b.taskStreams(t, tenantA); n != 50 {
			t.Fatalf("two sends of one batch started %d tasks, want 50", n)
		}
		other := batchBody(50, func(i int) string {
			if i == 7 {
				return `{"name":"other","adapter":"mock"}`
			}
			return ""
		})
		p := decode[map[string]any](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, other, "Idempotency-Key", "backlog-1"), http.StatusConflict)
		if p["field"] != "Idempotency-Key" || !strings.Contains(p["detail"].(string), "tasks[7]") {
			t.Fatalf("the key with another batch: %v", p)
		}
		// Another tenant's batch of the same key is its own.
		theirs := decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantB, body, "Idempotency-Key", "backlog-1"), http.StatusCreated)
		if theirs.Tasks[0].TaskID == first.Tasks[0].TaskID {
			t.Fatal("tenant B's batch answered tenant A's task")
		}

		single := `{"name":"item","adapter":"mock","args":{"steps":1}}`
		alone := decode[started](t, b.do(t, "POST", "/mcp/start_task", tenantA, single, "Idempotency-Key", "item-9"), http.StatusCreated)
		keyed := `{"tasks":[{"name":"item","adapter":"mock","args":{"steps":1},"idempotency_key":"item-9"}]}`
		res := decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, keyed), http.StatusCreated)
		if res.Tasks[0] != alone {
			t.Fatalf("the task's key answered %+v, want the single start's %+v", res.Tasks[0], alone)
		}
		reused := `{"tasks":[{"name":"t","adapter":"mock"},{"name":"changed","adapter":"mock","idempotency_key":"item-9"}]}`
		p = decode[map[string]any](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, reused), http.StatusConflict)
		if p["field"] != "tasks[1]" && p["field"] != "tasks[1].idempotency_key" {
			t.Fatalf("a task's key reused: %v", p)
		}
		if n := b.taskStreams(t, tenantA); n != 51 {
			t.Fatalf("tenant A has %d tasks, want 51", n)
		}
	})
}

// A batch that would pass the daily cap is refused whole, with the quota
// problem of a single start, saying how many fit.
func TestStartTasksBatchQuota(t *testing.T) {
	t.Parallel()
	o := setupOpts{plans: map[string]string{"PLAN_TRIAL_TASKS_PER_DAY": "10"}}
	forEachStore(t, o, func(t *testing.T, b *bundle) {
		b.start(t)
		resp := b.do(t, "POST", "/v1/tasks/batch", tenantA, batchBody(10, noTask))
		p := decode[map[string]any](t, resp, http.StatusTooManyRequests)
		if p["type"] != "urn:axontask:problem:quota-exceeded" || p["limit"] != 10.0 || p["used"] != 1.0 || !strings.Contains(p["detail"].(string), "9 more fit") || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("quota problem %v", p)
		}
		if n := b.taskStreams(t, tenantA); n != 1 {
			t.Fatalf("a refused batch left %d tasks, want the 1 before", n)
		}
		decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantA, batchBody(9, noTask)), http.StatusCreated)
		decode[map[string]any](t, b.do(t, "POST", "/mcp/start_task", tenantA, `{"name":"t","adapter":"mock"}`), http.StatusTooManyRequests)
		decode[startedBatch](t, b.do(t, "POST", "/v1/tasks/batch", tenantB, batchBody(10, noTask)), http.StatusCreated)
	})
}
