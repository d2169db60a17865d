package readapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testwait"
)

type listedTask struct {
	TaskID    string  `json:"task_id"`
	Name      string  `json:"name"`
	Adapter   string  `json:"adapter"`
	State     string  `json:"state"`
	Attempt   int     `json:"attempt"`
	CreatedAt *string `json:"created_at"`
	StartedAt *string `json:"started_at"`
	EndedAt   *string `json:"ended_at"`
	LastSeq   int64   `json:"last_seq"`
}

type taskList struct {
	Tasks      []listedTask `json:"tasks"`
	NextCursor *string      `json:"next_cursor"`
}

type listProblem struct {
	Status int    `json:"status"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// waitList polls GET /v1/tasks as tenant until it lists n tasks.
func (b *bundle) waitList(t *testing.T, tenant string, n int) taskList {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := decode[taskList](t, b.do(t, "GET", "/v1/tasks?limit=100", tenant, ""), http.StatusOK)
		if len(l.Tasks) == n {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant %s lists %d tasks, want %d", tenant, len(l.Tasks), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestListTasks(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{list: true}, func(t *testing.T, b *bundle) {
		var startedIDs []string
		for range 3 {
			startedIDs = append(startedIDs, b.start(t).TaskID)
		}
		resp := b.do(t, "POST", "/mcp/start_task", tenantB, `{"name":"b","adapter":"mock","args":`+mockArgs+`,"timeout_s":60}`)
		other := decode[started](t, resp, http.StatusCreated).TaskID

		all := b.waitList(t, tenantA, 3)
		// Wait for each task's queued event too.
		deadline := time.Now().Add(20 * time.Second)
		for all.Tasks[0].State != "queued" || all.Tasks[1].State != "queued" || all.Tasks[2].State != "queued" {
			if time.Now().After(deadline) {
				t.Fatalf("tasks did not reach queued: %+v", all.Tasks)
			}
			time.Sleep(10 * time.Millisecond)
			all = b.waitList(t, tenantA, 3)
		}
		seen := map[string]bool{}
		for _, task := range all.Tasks {
			seen[task.TaskID] = true
			if task.Name != "t" || task.Adapter != "mock" || task.Attempt != 1 || task.LastSeq < 2 ||
				task.CreatedAt == nil || task.StartedAt != nil || task.EndedAt != nil {
				t.Errorf("listed %+v", task)
			}
		}
		for _, id := range startedIDs {
			if !seen[id] {
				t.Errorf("task %s is not listed", id)
			}
		}
		if seen[other] {
			t.Errorf("tenant A sees tenant B's task %s", other)
		}
		if all.NextCursor != nil {
			t.Errorf("a partial page has next_cursor %q", *all.NextCursor)
		}
		if l := b.waitList(t, tenantB, 1); l.Tasks[0].TaskID != other {
			t.Errorf("tenant B lists %+v", l.Tasks)
		}

		// Pages of 2 give the full list, in order, without duplicates.
		first := decode[taskList](t, b.do(t, "GET", "/v1/tasks?limit=2", tenantA, ""), http.StatusOK)
		if len(first.Tasks) != 2 || first.NextCursor == nil {
			t.Fatalf("first page: %+v", first)
		}
		second := decode[taskList](t, b.do(t, "GET", "/v1/tasks?limit=2&cursor="+url.QueryEscape(*first.NextCursor), tenantA, ""), http.StatusOK)
		if len(second.Tasks) != 1 || second.NextCursor != nil {
			t.Fatalf("second page: %+v", second)
		}
		paged := append(first.Tasks, second.Tasks...)
		for i := range paged {
			if paged[i].TaskID != all.Tasks[i].TaskID {
				t.Fatalf("pages list %+v, want %+v", paged, all.Tasks)
			}
		}

		// The creation time filters: strict bounds, any offset, with
		// the state filter and across pages.
		newest, middle, oldest := all.Tasks[0], all.Tasks[1], all.Tasks[2]
		ids := func(query string) []string {
			t.Helper()
			var out []string
			for page := query; ; {
				l := decode[taskList](t, b.do(t, "GET", "/v1/tasks?"+page, tenantA, ""), http.StatusOK)
				for _, task := range l.Tasks {
					out = append(out, task.TaskID)
				}
				if l.NextCursor == nil {
					return out
				}
				page = query + "&cursor=" + url.QueryEscape(*l.NextCursor) // the same filters
			}
		}
		at := func(task listedTask, offset string) string {
			t.Helper()
			ts, err := time.Parse(time.RFC3339Nano, *task.CreatedAt)
			if err != nil {
				t.Fatal(err)
			}
			if offset == "" {
				return url.QueryEscape(ts.Format(time.RFC3339Nano))
			}
			loc, _ := time.Parse("-07:00", offset)
			return url.QueryEscape(ts.In(loc.Location()).Format(time.RFC3339Nano))
		}
		for _, tc := range []struct {
			query string
			want  []listedTask
		}{
			{"created_after=" + at(middle, ""), []listedTask{newest}},
			{"created_before=" + at(middle, "+05:30"), []listedTask{oldest}},
			{"created_after=" + at(oldest, "-08:00") + "&created_before=" + at(newest, ""), []listedTask{middle}},
			{"created_after=" + at(oldest, "") + "&state=queued&limit=1", []listedTask{newest, middle}},
			{"created_before=" + at(oldest, ""), nil},
			{"created_after=2000-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z&limit=2", []listedTask{newest, middle, oldest}},
		} {
			var want []string
			for _, task := range tc.want {
				want = append(want, task.TaskID)
			}
			if got := ids(tc.query); !slices.Equal(got, want) {
				t.Errorf("?%s lists %v, want %v", tc.query, got, want)
			}
		}
		// A cursor (after the newest) and an earlier created_before: the
		// page starts at the earlier of the two.
		top := decode[taskList](t, b.do(t, "GET", "/v1/tasks?limit=1", tenantA, ""), http.StatusOK)
		l := decode[taskList](t, b.do(t, "GET", "/v1/tasks?limit=2&created_before="+at(middle, "")+"&cursor="+url.QueryEscape(*top.NextCursor), tenantA, ""), http.StatusOK)
		if len(l.Tasks) != 1 || l.Tasks[0].TaskID != oldest.TaskID {
			t.Errorf("a cursor and an earlier created_before list %+v, want only %s", l.Tasks, oldest.TaskID)
		}

		// The state filter.
		if l := decode[taskList](t, b.do(t, "GET", "/v1/tasks?state=queued", tenantA, ""), http.StatusOK); len(l.Tasks) != 3 {
			t.Errorf("queued tasks: %+v", l.Tasks)
		}
		if l := decode[taskList](t, b.do(t, "GET", "/v1/tasks?state=running", tenantA, ""), http.StatusOK); len(l.Tasks) != 0 {
			t.Errorf("running tasks: %+v", l.Tasks)
		}
	})
}

func TestListTasksRejectsBadParameters(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{list: true}, func(t *testing.T, b *bundle) {
		for _, tc := range []struct{ query, field string }{
			{"state=bogus", "state"},
			{"state=", "state"},
			{"limit=0", "limit"},
			{"limit=101", "limit"},
			{"limit=ten", "limit"},
			{"cursor=%21%21%21", "cursor"},
			{"cursor=bm90LWEtY3Vyc29y", "cursor"}, // "not-a-cursor"
			{"created_after=yesterday", "created_after"},
			{"created_after=2026-12-01", "created_after"},
			{"created_after=2026-12-01T09:30:00", "created_after"}, // no offset
			{"created_after=", "created_after"},
			{"created_before=2026-13-01T00:00:00Z", "created_before"},
			{"created_after=2026-12-01T10:00:00Z&created_before=2026-12-01T10:00:00Z", "created_before"},
			{"created_after=2026-12-01T10:00:00Z&created_before=2026-12-01T11:00:00%2B02:00", "created_before"}, // 09:00Z
		} {
			p := decode[listProblem](t, b.do(t, "GET", "/v1/tasks?"+tc.query, tenantA, ""), http.StatusBadRequest)
			if p.Field != tc.field || p.Detail == "" {
				t.Errorf("?%s: problem %+v, want one about %s", tc.query, p, tc.field)
			}
		}
		if resp := b.do(t, "GET", "/v1/tasks", "", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("without credentials: status %d, want 401", resp.StatusCode)
		}
	})
}

// A task the read model still shows running is listed as the log says it
// is: a client that saw its task end never sees it listed running.
func TestListTasksReadsYourWrites(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{listByHand: true}, func(t *testing.T, b *bundle) {
		st := b.start(t)
		// The feed gives the start's events positions a moment after the
		// commit (Postgres's sealer): catch up until the read model has them.
		testwait.For(t, "the read model to list the queued task", func() bool {
			if _, err := b.lister.CatchUp(t.Context()); err != nil {
				t.Fatal(err)
			}
			return len(decode[taskList](t, b.do(t, "GET", "/v1/tasks?state=queued", tenantA, ""), http.StatusOK).Tasks) == 1
		})
		b.run(t, st.TaskID)
		events := openSSE(t, b.do(t, "GET", st.StreamURL, tenantA, "")).events() // to its end
		// The read model has not moved (nothing follows the feed here).
		l := decode[taskList](t, b.do(t, "GET", "/v1/tasks", tenantA, ""), http.StatusOK)
		if len(l.Tasks) != 1 || l.Tasks[0].State != "succeeded" || l.Tasks[0].EndedAt == nil || l.Tasks[0].LastSeq != events[len(events)-1].Seq {
			t.Fatalf("after the task ended, listed %+v; want it succeeded at seq %d", l.Tasks, events[len(events)-1].Seq)
		}
		if l := decode[taskList](t, b.do(t, "GET", "/v1/tasks?state=queued", tenantA, ""), http.StatusOK); len(l.Tasks) != 0 {
			t.Fatalf("an ended task is listed as queued: %+v", l.Tasks)
		}
	})
}
