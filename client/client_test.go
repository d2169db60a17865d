package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/readapi"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopExampleServer()
	testpg.StopAll()
	os.Exit(code)
}

// mockArgs runs a short mock task.
var mockArgs = map[string]int{"steps": 3, "interval_ms": 5}

// start starts a mock task with args.
func start(t *testing.T, c *client.Client, args any) api.StartedTask {
	t.Helper()
	st, err := c.StartTask(t.Context(), client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: args, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// follow reads a task's stream to its end with opts.
func follow(t *testing.T, c *client.Client, id uuid.UUID, opts client.StreamOptions) []domain.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s := c.Stream(ctx, id, opts)
	defer func() { _ = s.Close() }()
	var got []domain.Event
	for {
		e, err := s.Next()
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("stream of %s after %d events: %v", id, len(got), err)
		}
		got = append(got, e)
	}
}

// checkSeqs fails unless events have the seqs from, from+1, … and only the
// last is terminal.
func checkSeqs(t *testing.T, events []domain.Event, from int64) {
	t.Helper()
	if len(events) == 0 {
		t.Fatal("no events")
	}
	for i, e := range events {
		if e.Seq != from+int64(i) {
			t.Fatalf("event %d has seq %d, want %d", i, e.Seq, from+int64(i))
		}
		if e.Type.Terminal() != (i == len(events)-1) {
			t.Fatalf("event %d (seq %d) is %s", i, e.Seq, e.Type)
		}
	}
}

// apiError returns err's *APIError, failing the test when there is none or
// its status is not status.
func apiError(t *testing.T, err error, status int) *client.APIError {
	t.Helper()
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is no *APIError", err, err)
	}
	if apiErr.Status != status {
		t.Fatalf("status %d, want %d: %v", apiErr.Status, status, err)
	}
	return apiErr
}

// checkStatus fails the test unless err is an *APIError with status.
func checkStatus(t *testing.T, err error, status int) {
	t.Helper()
	_ = apiError(t, err, status)
}

func TestNewValidatesTheBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		opts []client.Option
		ok   bool
	}{
		{"http://localhost:8080", nil, true},
		{"https://example.com/axontask/", nil, true},
		{"ftp://example.com", nil, false},
		{"localhost:8080", nil, false},
		{"http://", nil, false},
		{"http://user:secret@example.com", nil, false},
		{"http://example.com?x=1", nil, false},
		{"http://example.com/#top", nil, false},
		{"http://example.com", []client.Option{client.WithToken("axt_a b")}, false},
		{"http://example.com", []client.Option{client.WithToken("axt_x\r\nX: y")}, false},
		{"http://example.com", []client.Option{client.WithUserAgent("agent/1 (x)")}, true},
		{"http://example.com", []client.Option{client.WithUserAgent("agent\n")}, false},
	} {
		c, err := client.New(tc.url, tc.opts...)
		if (err == nil) != tc.ok || (c != nil) != tc.ok {
			t.Errorf("New(%q): %v", tc.url, err)
		}
		if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "axt_")) {
			t.Errorf("New(%q)'s error repeats a credential: %v", tc.url, err)
		}
	}
}

// The base URL's path prefixes every endpoint.
func TestBaseURLPathPrefix(t *testing.T) {
	t.Parallel()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath() + " " + r.Header.Get("User-Agent") + " " + r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"api_keys":[]}`)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/prefix/", client.WithToken("tok"), client.WithUserAgent("ua/1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAPIKeys(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got != "/prefix/v1/api-keys ua/1 Bearer tok" {
		t.Fatalf("request %q", got)
	}
	if err := c.RevokeAPIKey(t.Context(), ".."); err == nil {
		t.Fatal("RevokeAPIKey(\"..\") was sent")
	}
	if err := c.RevokeAPIKey(t.Context(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "/prefix/v1/api-keys/a%2Fb%3Fc ") {
		t.Fatalf("request %q: the id was not escaped as one segment", got)
	}
}

// A task started with the SDK runs; its stream, its status and its pages
// of events agree, and its chain verifies.
func TestStartStreamStatusEvents(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		st := start(t, c, mockArgs)
		if st.TaskID == uuid.Nil || st.StreamURL != "/mcp/tasks/"+st.TaskID.String()+"/stream" || st.ResumeToken == "" {
			t.Fatalf("started %+v", st)
		}
		checkPrintsNoSecret(t, st, st.ResumeToken)
		streamed := follow(t, c, st.TaskID, client.StreamOptions{Verify: true})
		checkSeqs(t, streamed, 1)
		if last := streamed[len(streamed)-1].Type; last != domain.TaskSucceededType {
			t.Fatalf("the task ended with %s", last)
		}

		status, err := c.TaskStatus(t.Context(), st.TaskID)
		if err != nil {
			t.Fatal(err)
		}
		if status.TaskID != st.TaskID || status.State != domain.StateSucceeded || status.Attempt != 1 ||
			status.LastSeq != int64(len(streamed)) || status.CreatedAt.IsZero() || status.StartedAt.IsZero() ||
			status.EndedAt.Before(status.StartedAt.Time) || status.WaitingReason != "" {
			t.Fatalf("status %+v", status)
		}

		var paged []domain.Event
		page := api.EventPage{}
		for !page.Ended {
			if page, err = c.TaskEvents(t.Context(), st.TaskID, client.EventsOptions{SinceSeq: page.NextSeq, Limit: 4}); err != nil {
				t.Fatal(err)
			}
			paged = append(paged, page.Events...)
			if len(paged) > len(streamed) {
				t.Fatalf("%d events paged, %d streamed", len(paged), len(streamed))
			}
		}
		if err := integrity.Verify(paged); err != nil {
			t.Fatal(err)
		}
		for i := range paged {
			a, b := paged[i], streamed[i]
			if a.Hash != b.Hash || a.EventID != b.EventID || string(a.Payload) != string(b.Payload) {
				t.Fatalf("event %d differs: paged %+v, streamed %+v", i, a, b)
			}
		}
		if _, err := c.TaskEvents(t.Context(), st.TaskID, client.EventsOptions{Limit: 1001}); apiError(t, err, 400).Field != "limit" {
			t.Fatalf("limit 1001: %v", err)
		}
	})
}

// A payload holding <, > and & verifies from the events pages too (the
// server's JSON encoder escapes them; the SDK restores the canonical form).
func TestEventsPageWithHTMLCharacters(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		st, err := c.StartTask(t.Context(), client.StartTaskRequest{Name: "a <b> & c", Adapter: domain.AdapterMock, Args: mockArgs})
		if err != nil {
			t.Fatal(err)
		}
		streamed := follow(t, c, st.TaskID, client.StreamOptions{Verify: true})
		page, err := c.TaskEvents(t.Context(), st.TaskID, client.EventsOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != len(streamed) || !page.Ended {
			t.Fatalf("page of %d events (ended %v), %d streamed", len(page.Events), page.Ended, len(streamed))
		}
		if !strings.Contains(string(page.Events[0].Payload), `"a <b> & c"`) {
			t.Fatalf("task.created payload %s", page.Events[0].Payload)
		}
		if err := integrity.Verify(page.Events); err != nil {
			t.Fatal(err)
		}
	})
}

// An Idempotency-Key makes a retried start return the first task.
func TestStartTaskIdempotencyKey(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		req := client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: mockArgs, IdempotencyKey: "build-42"}
		first, err := c.StartTask(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.StartTask(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if again.TaskID != first.TaskID {
			t.Fatalf("the retry started task %s, the first %s", again.TaskID, first.TaskID)
		}
		req.Name = "other"
		_, err = c.StartTask(t.Context(), req)
		if !errors.Is(err, client.ErrConflict) || apiError(t, err, 409).Field != "Idempotency-Key" {
			t.Fatalf("the key reused with other arguments: %v", err)
		}
	})
}

// Wrong input answers 400 naming the field; without a credential 401;
// another tenant's task 404.
func TestTaskErrors(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		a, other, anonymous := b.client(t, tenantA), b.client(t, tenantB), b.client(t, "")
		st := start(t, a, mockArgs)

		for _, tc := range []struct {
			req   client.StartTaskRequest
			field string
		}{
			{client.StartTaskRequest{Name: "", Adapter: domain.AdapterMock}, "name"},
			{client.StartTaskRequest{Name: "t", Adapter: "nope"}, "adapter"},
			{client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: map[string]any{"steps": "many"}}, "args.steps"},
			{client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: []byte(`[1]`)}, "args"},
			{client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Timeout: 100 * 24 * time.Hour}, "timeout_s"},
		} {
			_, err := a.StartTask(ctx, tc.req)
			apiErr := apiError(t, err, 400)
			if !errors.Is(err, client.ErrInvalidInput) || apiErr.Field != tc.field || apiErr.Detail == "" ||
				apiErr.Type != "urn:axontask:problem:invalid-input" || apiErr.RequestID == "" {
				t.Errorf("start %+v: %+v", tc.req, apiErr)
			}
		}
		if _, err := a.StartTask(ctx, client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: func() {}}); err == nil {
			t.Error("args that do not encode were sent")
		}

		_, err := anonymous.TaskStatus(ctx, st.TaskID)
		if !errors.Is(err, client.ErrUnauthenticated) || errors.Is(err, client.ErrNotFound) {
			t.Errorf("status without a credential: %v", err)
		}
		checkStatus(t, err, 401)
		if _, err := anonymous.StartTask(ctx, client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock}); !errors.Is(err, client.ErrUnauthenticated) {
			t.Errorf("start without a credential: %v", err)
		}
		bad, err := client.New(b.url, client.WithToken("axt_nope_secretsecret"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bad.ListTasks(ctx, client.ListTasksOptions{}); !errors.Is(err, client.ErrUnauthenticated) || strings.Contains(err.Error(), "secretsecret") {
			t.Errorf("list with an unknown key: %v", err)
		}

		// Another tenant's task is not found, for every call.
		if _, err := other.TaskStatus(ctx, st.TaskID); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("status of another tenant's task: %v", err)
		}
		if err := other.CancelTask(ctx, st.TaskID, ""); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("cancel of another tenant's task: %v", err)
		}
		if _, err := other.TaskEvents(ctx, st.TaskID, client.EventsOptions{}); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("events of another tenant's task: %v", err)
		}
		if _, err := a.TaskStatus(ctx, uuid.New()); apiError(t, err, 404).Type != "urn:axontask:problem:task-not-found" {
			t.Errorf("status of no task: %v", err)
		}
		follow(t, a, st.TaskID, client.StreamOptions{})
	})
}

// Cancel: a running task ends canceled; cancelling again succeeds;
// cancelling a task that succeeded is a *TaskFinishedError.
func TestCancelTask(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		c := b.client(t, tenantA)
		long := start(t, c, map[string]int{"steps": 10_000, "interval_ms": 50})
		s := c.Stream(ctx, long.TaskID, client.StreamOptions{})
		defer func() { _ = s.Close() }()
		for {
			e, err := s.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.Type == domain.TaskStartedType {
				break
			}
		}
		if err := c.CancelTask(ctx, long.TaskID, "stop-1"); err != nil {
			t.Fatal(err)
		}
		var last domain.Event
		for {
			e, err := s.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			last = e
		}
		if last.Type != domain.TaskCanceledType {
			t.Fatalf("the canceled task ended with %s", last.Type)
		}
		if err := c.CancelTask(ctx, long.TaskID, ""); err != nil {
			t.Fatalf("cancelling a canceled task: %v", err)
		}

		done := start(t, c, mockArgs)
		follow(t, c, done.TaskID, client.StreamOptions{})
		err := c.CancelTask(ctx, done.TaskID, "")
		var finished *client.TaskFinishedError
		if !errors.As(err, &finished) || finished.State != domain.StateSucceeded || !errors.Is(err, client.ErrConflict) {
			t.Fatalf("cancelling a task that succeeded: %v", err)
		}
		if apiError(t, err, 409).State != domain.StateSucceeded {
			t.Fatalf("the problem's state: %+v", finished.Err)
		}
	})
}

// The task list pages newest first, filters by state, and AllTasks walks
// every page.
func TestListTasks(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		ctx := t.Context()
		c := b.client(t, tenantA)
		var ids []uuid.UUID
		for range 5 {
			st := start(t, c, mockArgs)
			follow(t, c, st.TaskID, client.StreamOptions{})
			ids = append(ids, st.TaskID)
		}
		// The list follows the log a little behind.
		deadline := time.Now().Add(20 * time.Second)
		for {
			page, err := c.ListTasks(ctx, client.ListTasksOptions{State: domain.StateSucceeded, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Tasks) == len(ids) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the list shows %d succeeded tasks of %d", len(page.Tasks), len(ids))
			}
			time.Sleep(20 * time.Millisecond)
		}

		var got []api.Task
		for task, err := range c.AllTasks(ctx, client.ListTasksOptions{Limit: 2}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, task)
		}
		if len(got) != len(ids) {
			t.Fatalf("AllTasks yielded %d tasks, want %d", len(got), len(ids))
		}
		for i, task := range got {
			want := ids[len(ids)-1-i]
			if task.TaskID != want || task.Name != "t" || task.Adapter != domain.AdapterMock || task.State != domain.StateSucceeded ||
				task.CreatedAt.IsZero() || task.EndedAt.IsZero() || task.LastSeq < 5 || task.Attempt != 1 {
				t.Fatalf("task %d: %+v, want %s", i, task, want)
			}
		}
		first, err := c.ListTasks(ctx, client.ListTasksOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Tasks) != 2 || first.NextCursor == nil {
			t.Fatalf("first page %+v", first)
		}
		for _, err := range c.AllTasks(ctx, client.ListTasksOptions{Limit: 1}) {
			if err != nil {
				t.Fatal(err)
			}
			break // stopping early must not panic
		}
		if page, err := c.ListTasks(ctx, client.ListTasksOptions{State: domain.StateRunning}); err != nil || len(page.Tasks) != 0 || page.NextCursor != nil {
			t.Fatalf("running tasks: %+v, %v", page, err)
		}
		if other, err := b.client(t, tenantB).ListTasks(ctx, client.ListTasksOptions{}); err != nil || len(other.Tasks) != 0 {
			t.Fatalf("tenant B lists %+v, %v", other, err)
		}
		// A creation range, walked page by page: the tasks strictly
		// between the oldest and the newest.
		var between []uuid.UUID
		for task, err := range c.AllTasks(ctx, client.ListTasksOptions{Limit: 1, CreatedAfter: got[len(got)-1].CreatedAt.Time, CreatedBefore: got[0].CreatedAt.Time}) {
			if err != nil {
				t.Fatal(err)
			}
			between = append(between, task.TaskID)
		}
		if want := []uuid.UUID{ids[3], ids[2], ids[1]}; !slices.Equal(between, want) {
			t.Fatalf("tasks created between the first and the last: %v, want %v", between, want)
		}

		for _, tc := range []struct {
			opts  client.ListTasksOptions
			field string
		}{
			{client.ListTasksOptions{State: "sleeping"}, "state"},
			{client.ListTasksOptions{Limit: 101}, "limit"},
			{client.ListTasksOptions{Cursor: "nope"}, "cursor"},
			{client.ListTasksOptions{CreatedAfter: got[0].CreatedAt.Time, CreatedBefore: got[1].CreatedAt.Time}, "created_before"},
		} {
			_, err := c.ListTasks(ctx, tc.opts)
			if apiError(t, err, 400).Field != tc.field {
				t.Errorf("list %+v: %v", tc.opts, err)
			}
		}
		n := 0
		for task, err := range c.AllTasks(ctx, client.ListTasksOptions{State: "sleeping"}) {
			n++
			if err == nil || task.TaskID != uuid.Nil {
				t.Fatalf("AllTasks of a bad state yielded %+v, %v", task, err)
			}
		}
		if n != 1 {
			t.Fatalf("AllTasks yielded its error %d times", n)
		}
	})
}

// A tenant past its plan's daily quota gets a 429 quota-exceeded with the
// plan, the limit, the usage and when it resets: the next midnight UTC of
// the server's clock, pinned here a minute before it.
func TestQuotaExceeded(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.March, 10, 23, 59, 0, 0, time.UTC)
	o := serverOpts{plans: map[string]string{"PLAN_TRIAL_TASKS_PER_DAY": "1"}, now: func() time.Time { return now }}
	forEachStore(t, o, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		start(t, c, mockArgs)
		_, err := c.StartTask(t.Context(), client.StartTaskRequest{Name: "t", Adapter: domain.AdapterMock, Args: mockArgs})
		apiErr := apiError(t, err, 429)
		if !errors.Is(err, client.ErrQuotaExceeded) || !errors.Is(err, client.ErrRateLimited) ||
			apiErr.Plan != domain.PlanTrial || apiErr.Limit != 1 || apiErr.Used != 1 ||
			!apiErr.ResetsAt.Equal(now.Add(time.Minute)) || apiErr.RetryAfter != time.Minute {
			t.Fatalf("past the quota: %+v", apiErr)
		}
	})
}

// Past the rate limit: 429 with Retry-After, not a quota.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{requestLimit: ratelimit2}, func(t *testing.T, b *bundle) {
		c := b.client(t, tenantA)
		var err error
		for range 3 {
			if _, err = c.ListTasks(t.Context(), client.ListTasksOptions{}); err != nil {
				break
			}
		}
		apiErr := apiError(t, err, 429)
		if !errors.Is(err, client.ErrRateLimited) || errors.Is(err, client.ErrQuotaExceeded) || apiErr.RetryAfter < time.Second {
			t.Fatalf("past the rate limit: %+v", apiErr)
		}
	})
}

// Health and Ready answer from the server's own probes: ready once the
// feed holds the setup's events.
func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	forEachStore(t, serverOpts{}, func(t *testing.T, b *bundle) {
		c := b.client(t, "")
		if err := c.Health(t.Context()); err != nil {
			t.Fatal(err)
		}
		// The setup's events reach the feed asynchronously on Postgres.
		var r client.Readiness
		var err error
		testwait.For(t, "the feed to hold the setup's events", func() bool {
			r, err = c.Ready(t.Context())
			return err != nil || r.FeedHead > 0
		})
		if err != nil || r.Status != "ready" || r.FeedHead < 1 {
			t.Fatalf("ready: %+v, %v", r, err)
		}
	})
}

// Ready is a 503 *APIError saying why when the server's event store does
// not answer: here a real store, closed.
func TestNotReadyWhenTheStoreDoesNotAnswer(t *testing.T) {
	t.Parallel()
	for _, e := range teststores.Engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := e.Open(t, eventstore.Options{})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("GET /readyz", readapi.Ready(s))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			c, err := client.New(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Ready(t.Context())
			if apiErr := apiError(t, err, 503); !strings.Contains(apiErr.Detail, "event store does not answer") {
				t.Fatalf("not ready: %+v", apiErr)
			}
		})
	}
}
