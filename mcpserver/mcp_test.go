package mcpserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/mcpserver"
)

// versions are the protocol versions the tests ask for: the SDK's latest
// (negotiated through server/discover, stateless) and the last revision of
// the initialize handshake, which most clients speak today.
var versions = []string{"", "2025-11-25"}

// call calls a tool; a protocol error fails the test.
func call(t *testing.T, s *session, name string, args any, meta mcp.Meta) *mcp.CallToolResult {
	t.Helper()
	res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args, Meta: meta})
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return res
}

// text returns a result's text content.
func text(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var parts []string
	for _, c := range res.Content {
		tc, ok := c.(*mcp.TextContent)
		if !ok {
			t.Fatalf("content %T, want text", c)
		}
		parts = append(parts, tc.Text)
	}
	return strings.Join(parts, "\n")
}

// callOK calls a tool that must succeed and decodes its structured
// content.
func callOK[T any](t *testing.T, s *session, name string, args any) (T, string) {
	t.Helper()
	return callOKMeta[T](t, s, name, args, nil)
}

// callOKMeta is callOK with the call's _meta (a progress token).
func callOKMeta[T any](t *testing.T, s *session, name string, args any, meta mcp.Meta) (T, string) {
	t.Helper()
	var out T
	res := call(t, s, name, args, meta)
	if res.IsError {
		t.Fatalf("%s %v: tool error: %s", name, args, text(t, res))
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var value any
	if err := json.Unmarshal(b, &value); err != nil {
		t.Fatal(err)
	}
	if err := s.outputSchema(t, name).Validate(&value); err != nil {
		t.Fatalf("%s: structured content %.300s does not fit the output schema: %v", name, b, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: structured content %s: %v", name, b, err)
	}
	return out, text(t, res)
}

// callErr calls a tool that must fail with a tool error and returns its
// text.
func callErr(t *testing.T, s *session, name string, args any) string {
	t.Helper()
	res := call(t, s, name, args, nil)
	if !res.IsError {
		t.Fatalf("%s %v: no tool error: %s", name, args, text(t, res))
	}
	return text(t, res)
}

func wantText(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not say %q", what, got, w)
		}
	}
}

// start starts a mock task and returns its id.
func start(t *testing.T, s *session, args map[string]any) string {
	t.Helper()
	out, _ := callOK[mcpserver.StartTaskOutput](t, s, "start_task", map[string]any{"name": "t", "adapter": "mock", "args": args, "timeout_s": 120})
	if out.TaskID == "" || out.StreamURL != "/mcp/tasks/"+out.TaskID+"/stream" || out.ResumeToken == "" {
		t.Fatalf("start_task = %+v", out)
	}
	return out.TaskID
}

// follow reads a task's events with read_task_events from seq 0 until
// ended, and returns them.
func follow(t *testing.T, s *session, id string) []domain.Event {
	t.Helper()
	var events []domain.Event
	since := int64(0)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out, txt := callOK[mcpserver.ReadTaskEventsOutput](t, s, "read_task_events", map[string]any{"task_id": id, "since_seq": since, "wait_s": 10})
		for _, raw := range out.Events {
			var e domain.Event
			if err := e.UnmarshalJSON(raw); err != nil {
				t.Fatalf("event %s: %v", raw, err)
			}
			// The JSON-RPC encoder may re-escape <, > and &: restore the
			// hashed, canonical bytes.
			if e.Payload != nil {
				c, err := integrity.CanonicalPayload(e.Payload)
				if err != nil {
					t.Fatal(err)
				}
				e.Payload = c
			}
			events = append(events, e)
		}
		if len(out.Events) > 0 && out.NextSeq != events[len(events)-1].Seq || len(out.Events) == 0 && out.NextSeq != since {
			t.Fatalf("next_seq %d after %d events since %d", out.NextSeq, len(out.Events), since)
		}
		since = out.NextSeq
		if out.Ended {
			wantText(t, "the last answer", txt, "has ended")
			return events
		}
		wantText(t, "an answer", txt, "since_seq")
		if time.Now().After(deadline) {
			t.Fatalf("task %s did not end; %d events", id, len(events))
		}
	}
}

// checkLog checks that events are a whole task log: seqs 1..N, a terminal
// event last, a chain that verifies.
func checkLog(t *testing.T, id string, events []domain.Event, last domain.EventType) {
	t.Helper()
	for i, e := range events {
		if e.Seq != int64(i+1) || e.StreamID != id {
			t.Fatalf("event %d: seq %d of %s", i, e.Seq, e.StreamID)
		}
	}
	if len(events) < 3 || events[0].Type != domain.TaskCreatedType || events[len(events)-1].Type != last {
		t.Fatalf("events %d, last %s; want task.created … %s", len(events), events[len(events)-1].Type, last)
	}
	if err := integrity.Verify(events); err != nil {
		t.Fatal(err)
	}
}

// Over Streamable HTTP with the official Go SDK, in both protocol eras, on
// every store: the tools and their schemas, a task followed to its end and
// verified, a cancel, the task list, the resource, progress notifications
// during a long wait, and every tool's error paths.
func TestStreamableHTTP(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		for _, version := range versions {
			name := version
			if name == "" {
				name = "latest"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := b.connect(t, tenantA, version)
				other := b.connect(t, tenantB, version)
				t.Run("tools", func(t *testing.T) { t.Parallel(); testToolList(t, s) })
				t.Run("follow", func(t *testing.T) { t.Parallel(); testFollow(t, s) })
				t.Run("cancel", func(t *testing.T) { t.Parallel(); testCancel(t, s) })
				t.Run("list", func(t *testing.T) { t.Parallel(); testList(t, s, other) })
				t.Run("progress", func(t *testing.T) { t.Parallel(); testProgress(t, s) })
				// A session of its own: testProgress counts every
				// notification its session receives.
				t.Run("task progress", func(t *testing.T) { t.Parallel(); testTaskProgress(t, b.connect(t, tenantA, version)) })
				t.Run("errors", func(t *testing.T) { t.Parallel(); testErrors(t, s, other) })
			})
		}
	})
}

func testToolList(t *testing.T, s *session) {
	res, err := s.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	schemas := map[string]*jsonschema.Schema{}
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if tool.Description == "" || tool.OutputSchema == nil {
			t.Errorf("tool %s: no description or output schema", tool.Name)
		}
		b, err := json.Marshal(tool.InputSchema)
		if err != nil {
			t.Fatal(err)
		}
		var in jsonschema.Schema
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		if in.Type != "object" || len(in.Properties) == 0 {
			t.Errorf("tool %s: input schema %s", tool.Name, b)
		}
		for name, p := range in.Properties {
			if p.Description == "" {
				t.Errorf("tool %s: property %s has no description", tool.Name, name)
			}
		}
		schemas[tool.Name] = &in
	}
	slices.Sort(names)
	want := []string{"cancel_task", "get_task_receipt", "get_task_status", "get_usage", "list_tasks", "read_task_events", "start_task", "verify_task"}
	if !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	ev := schemas["read_task_events"]
	if p := ev.Properties["limit"]; *p.Minimum != 1 || *p.Maximum != 500 || string(p.Default) != "100" {
		t.Errorf("read_task_events limit: %+v", p)
	}
	if p := ev.Properties["wait_s"]; *p.Minimum != 0 || *p.Maximum != 50 || string(p.Default) != "20" {
		t.Errorf("read_task_events wait_s: %+v", p)
	}
	if !slices.Equal(ev.Required, []string{"task_id"}) {
		t.Errorf("read_task_events requires %v", ev.Required)
	}
	st := schemas["start_task"]
	if p := st.Properties["adapter"]; !slices.Equal(p.Enum, []any{"shell", "docker", "mock", "fly"}) {
		t.Errorf("start_task adapter enum %v", p.Enum)
	}
	if !slices.Equal(st.Required, []string{"name", "adapter"}) {
		t.Errorf("start_task requires %v", st.Required)
	}

	templates, err := s.ListResourceTemplates(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(templates.ResourceTemplates) != 1 || templates.ResourceTemplates[0].URITemplate != mcpserver.EventsTemplate ||
		templates.ResourceTemplates[0].MIMEType != "application/json" {
		t.Fatalf("resource templates %+v", templates.ResourceTemplates)
	}
}

func testFollow(t *testing.T, s *session) {
	id := start(t, s, map[string]any{"steps": 3, "interval_ms": 20})
	events := follow(t, s, id)
	checkLog(t, id, events, domain.TaskSucceededType)
	last := events[len(events)-1]

	v, txt := callOK[mcpserver.VerifyTaskOutput](t, s, "verify_task", map[string]any{"task_id": id})
	if !v.Verified || v.Events != int64(len(events)) || v.LastSeq != last.Seq || !v.Ended || v.Error != "" {
		t.Fatalf("verify_task = %+v", v)
	}
	if want, _ := last.Hash.MarshalText(); v.HeadHash != string(want) {
		t.Fatalf("head_hash %s, want %s", v.HeadHash, want)
	}
	wantText(t, "verify_task", txt, "verifies", id)

	rc, txt := callOK[mcpserver.TaskReceiptOutput](t, s, "get_task_receipt", map[string]any{"task_id": id})
	var receipt integrity.Receipt
	if err := json.Unmarshal([]byte(rc.Receipt), &receipt); err != nil || rc.TaskID != id || rc.State != "succeeded" || rc.LastSeq != last.Seq ||
		receipt.HeadHash != last.Hash || rc.TreeSize <= rc.LeafIndex {
		t.Fatalf("get_task_receipt = %+v (%v)", rc, err)
	}
	wantText(t, "get_task_receipt", txt, "succeeded", id)

	st, txt := callOK[mcpserver.TaskStatusOutput](t, s, "get_task_status", map[string]any{"task_id": id})
	if st.TaskID != id || st.State != "succeeded" || !st.Ended || st.LastSeq != last.Seq || st.Attempt != 1 || st.EndedAt == "" {
		t.Fatalf("get_task_status = %+v", st)
	}
	wantText(t, "get_task_status", txt, "succeeded")

	// Read after the end: nothing, at once.
	began := time.Now()
	out, _ := callOK[mcpserver.ReadTaskEventsOutput](t, s, "read_task_events", map[string]any{"task_id": id, "since_seq": last.Seq})
	if len(out.Events) != 0 || !out.Ended || out.NextSeq != last.Seq || time.Since(began) > 5*time.Second {
		t.Fatalf("read after the end = %+v after %s", out, time.Since(began))
	}
	// A page of 2 stops short and says so.
	out, txt = callOK[mcpserver.ReadTaskEventsOutput](t, s, "read_task_events", map[string]any{"task_id": id, "limit": 2})
	if len(out.Events) != 2 || out.Ended || out.NextSeq != 2 {
		t.Fatalf("a page of 2 = %+v", out)
	}
	wantText(t, "a page of 2", txt, "since_seq 2", "task.created")

	// The resource: the same events.
	uri := "axontask://tasks/" + id + "/events"
	rr, err := s.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].MIMEType != "application/json" || rr.Contents[0].URI != uri {
		t.Fatalf("resource %+v", rr.Contents)
	}
	var res mcpserver.EventsResource
	if err := json.Unmarshal([]byte(rr.Contents[0].Text), &res); err != nil {
		t.Fatal(err)
	}
	if res.TaskID != id || len(res.Events) != len(events) || !res.Ended || res.Truncated || res.NextSeq != last.Seq {
		t.Fatalf("resource: %d events, %+v", len(res.Events), res)
	}
}

func testCancel(t *testing.T, s *session) {
	id := start(t, s, map[string]any{"steps": 10000, "interval_ms": 50})
	// Wait for it to run.
	callOK[mcpserver.ReadTaskEventsOutput](t, s, "read_task_events", map[string]any{"task_id": id, "since_seq": 3, "wait_s": 10})
	out, txt := callOK[mcpserver.CancelTaskOutput](t, s, "cancel_task", map[string]any{"task_id": id})
	if !out.Canceled || out.State == "" {
		t.Fatalf("cancel_task = %+v", out)
	}
	wantText(t, "cancel_task", txt, id)
	events := follow(t, s, id)
	checkLog(t, id, events, domain.TaskCanceledType)
	// Again: harmless.
	if again, _ := callOK[mcpserver.CancelTaskOutput](t, s, "cancel_task", map[string]any{"task_id": id}); !again.Canceled || again.State != "canceled" {
		t.Fatalf("cancel_task again = %+v", again)
	}
}

func testList(t *testing.T, s, other *session) {
	id := start(t, s, map[string]any{"steps": 1, "interval_ms": 1})
	follow(t, s, id)
	// The list follows the log a moment behind.
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, txt := callOK[mcpserver.ListTasksOutput](t, s, "list_tasks", map[string]any{"state": "succeeded", "limit": 100})
		i := slices.IndexFunc(out.Tasks, func(task mcpserver.TaskSummary) bool { return task.TaskID == id })
		if i >= 0 {
			task := out.Tasks[i]
			if task.Name != "t" || task.Adapter != "mock" || task.State != "succeeded" || task.CreatedAt == "" || task.LastSeq < 3 {
				t.Fatalf("list_tasks: %+v", task)
			}
			wantText(t, "list_tasks", txt, id)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list_tasks never showed task %s: %+v", id, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Pages: one task, then a cursor.
	page, _ := callOK[mcpserver.ListTasksOutput](t, s, "list_tasks", map[string]any{"limit": 1})
	if len(page.Tasks) != 1 || page.NextCursor == "" {
		t.Fatalf("list_tasks limit 1 = %+v", page)
	}
	callOK[mcpserver.ListTasksOutput](t, s, "list_tasks", map[string]any{"limit": 1, "cursor": page.NextCursor})
	// A creation range: the task is after 2000 and not before it, nor after 2999.
	after, _ := callOK[mcpserver.ListTasksOutput](t, s, "list_tasks", map[string]any{"created_after": "2000-01-01T00:00:00Z", "limit": 100})
	before, _ := callOK[mcpserver.ListTasksOutput](t, s, "list_tasks", map[string]any{"created_before": "2000-01-01T00:00:00+02:00"})
	future, _ := callOK[mcpserver.ListTasksOutput](t, s, "list_tasks", map[string]any{"created_after": "2999-01-01T00:00:00Z"})
	if !slices.ContainsFunc(after.Tasks, func(task mcpserver.TaskSummary) bool { return task.TaskID == id }) || len(before.Tasks) != 0 || len(future.Tasks) != 0 {
		t.Fatalf("list_tasks created after 2000 = %+v, before 2000 = %+v, after 2999 = %+v; want task %s, then none, none", after, before, future, id)
	}
	wantText(t, "a bad created_after", callErr(t, s, "list_tasks", map[string]any{"created_after": "yesterday"}), "created_after", "RFC 3339", `"yesterday"`)
	// Another tenant sees none of them.
	theirs, _ := callOK[mcpserver.ListTasksOutput](t, other, "list_tasks", map[string]any{})
	if slices.ContainsFunc(theirs.Tasks, func(task mcpserver.TaskSummary) bool { return task.TaskID == id }) {
		t.Fatalf("another tenant lists task %s", id)
	}
}

// A long wait sends progress notifications, at the configured interval,
// to a client that gave a progress token; the answer then says nothing
// came.
func testProgress(t *testing.T, s *session) {
	id := start(t, s, map[string]any{"steps": 10000, "interval_ms": 50})
	t.Cleanup(func() {
		_, _ = s.CallTool(context.Background(), &mcp.CallToolParams{Name: "cancel_task", Arguments: map[string]any{"task_id": id}})
	})
	const token = "wait-1"
	began := time.Now()
	res := call(t, s, "read_task_events", map[string]any{"task_id": id, "since_seq": 1 << 40, "wait_s": 4}, mcp.Meta{"progressToken": token})
	took := time.Since(began)
	if res.IsError {
		t.Fatal(text(t, res))
	}
	wantText(t, "an empty wait", text(t, res), "no events after seq", "waited")
	if took < 4*time.Second || took > 15*time.Second {
		t.Errorf("the wait took %s, want about 4 s", took)
	}
	notes := s.progress.of(token)
	if len(notes) < 2 {
		t.Fatalf("%d progress notifications in %s (interval %s), want at least 2", len(notes), took, progressInterval)
	}
	for i, n := range notes {
		if n.Total != 4 || n.Progress <= 0 || n.Progress > 4 || (i > 0 && n.Progress <= notes[i-1].Progress) || !strings.Contains(n.Message, id) {
			t.Errorf("notification %d: %+v", i, n)
		}
	}
	// Without a token, none.
	before := len(s.progress.params)
	call(t, s, "read_task_events", map[string]any{"task_id": id, "since_seq": 1 << 40, "wait_s": 2}, nil)
	if after := len(s.progress.params); after != before {
		t.Errorf("%d notifications without a progress token", after-before)
	}
}

// A task's own progress reaches a client that gave a progress token, as
// notifications of 100 with the task's messages, and one call returns the
// batch of events that came within batch_ms of the first.
func testTaskProgress(t *testing.T, s *session) {
	id := start(t, s, map[string]any{"steps": 3, "interval_ms": 600})
	token := "steps-" + id
	// Seq 3 is task.started: the call waits for the first step, 600 ms in.
	out, txt := callOKMeta[mcpserver.ReadTaskEventsOutput](t, s, "read_task_events",
		map[string]any{"task_id": id, "since_seq": 3, "wait_s": 20, "batch_ms": 5000}, mcp.Meta{"progressToken": token})
	// 3 steps of an output line and a progress event each, and the end:
	// the batch ends with the terminal event, not after 5 s.
	if len(out.Events) != 7 || !out.Ended {
		t.Fatalf("one call with a batch window returned %d events (ended %v), want the 7 to the end:\n%s", len(out.Events), out.Ended, txt)
	}
	notes := s.progress.of(token)
	var steps []*mcp.ProgressNotificationParams
	for i, n := range notes {
		if i > 0 && n.Progress <= notes[i-1].Progress {
			t.Errorf("notification %d goes back: %+v after %+v", i, n, notes[i-1])
		}
		if strings.Contains(n.Message, "step") {
			steps = append(steps, n)
		}
	}
	if len(steps) != 3 {
		t.Fatalf("%d notifications of the task's steps, want 3: %+v", len(steps), notes)
	}
	for i, n := range steps {
		want := 100 * float64(i+1) / 3
		if n.Total != 100 || n.Progress < want-0.01 || n.Progress > want+0.01 || !strings.Contains(n.Message, fmt.Sprintf("step %d/3", i+1)) {
			t.Errorf("step %d's notification: %+v, want %.1f of 100 saying step %d/3", i+1, n, want, i+1)
		}
	}
}

func testErrors(t *testing.T, s, other *session) {
	done := start(t, s, map[string]any{"steps": 1, "interval_ms": 1})
	follow(t, s, done)
	tests := []struct {
		tool string
		args map[string]any
		want []string
	}{
		// Arguments the schema refuses.
		{"start_task", map[string]any{"name": "t", "adapter": "k8s"}, []string{"adapter", "mock", "shell", "docker", "fly"}},
		{"start_task", map[string]any{"adapter": "mock"}, []string{"name"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "timeout_s": 0}, []string{"timeout_s", "minimum"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "frobnicate": true}, []string{"frobnicate"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "args": []int{1}}, []string{"args"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "retry": map[string]any{"max_attempts": 101}}, []string{"max_attempts"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "retry": map[string]any{"max_attempts": 2, "backoff": 2}}, []string{"backoff"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "on_interrupt": "sometimes"}, []string{"on_interrupt"}},
		{"read_task_events", map[string]any{"task_id": done, "limit": 501}, []string{"limit", "500"}},
		{"read_task_events", map[string]any{"task_id": done, "limit": 0}, []string{"limit", "1"}},
		{"read_task_events", map[string]any{"task_id": done, "wait_s": 51}, []string{"wait_s", "50"}},
		{"read_task_events", map[string]any{"task_id": done, "since_seq": -1}, []string{"since_seq"}},
		{"read_task_events", map[string]any{"task_id": done, "since_seq": 1.5}, []string{"since_seq", "integer"}},
		{"list_tasks", map[string]any{"state": "sleeping"}, []string{"state", "running"}},
		{"list_tasks", map[string]any{"limit": 101}, []string{"limit", "100"}},
		{"get_task_status", map[string]any{}, []string{"task_id"}},
		// Arguments the tools refuse.
		{"get_task_status", map[string]any{"task_id": "not-a-uuid"}, []string{"task_id", "not a task id", "start_task"}},
		{"read_task_events", map[string]any{"task_id": "1234"}, []string{"not a task id"}},
		{"cancel_task", map[string]any{"task_id": "x"}, []string{"not a task id"}},
		{"verify_task", map[string]any{"task_id": "{" + done + "}"}, []string{"not a task id"}},
		// Arguments the API refuses.
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "args": map[string]any{"steps": -1}}, []string{"invalid", "steps"}},
		{"start_task", map[string]any{"name": "t", "adapter": "shell", "args": map[string]any{}}, []string{"invalid", "command"}},
		{"start_task", map[string]any{"name": "t", "adapter": "mock", "retry": map[string]any{"max_attempts": 2, "max_interval_ms": 10, "initial_interval_ms": 20}}, []string{"invalid", "retry.max_interval_ms"}},
		{"list_tasks", map[string]any{"cursor": "garbage"}, []string{"cursor", "next_cursor"}},
		// A finished task cannot be canceled.
		{"cancel_task", map[string]any{"task_id": done}, []string{"succeeded", "nothing to cancel"}},
	}
	for _, tc := range tests {
		got := callErr(t, s, tc.tool, tc.args)
		wantText(t, tc.tool, got, append(tc.want, tc.tool)...)
	}
	// Another tenant's task is not found, by every tool.
	for _, tool := range []string{"get_task_status", "read_task_events", "cancel_task", "verify_task"} {
		got := callErr(t, other, tool, map[string]any{"task_id": done})
		wantText(t, tool+" of another tenant's task", got, "no task of yours", "list_tasks")
	}
	if _, err := other.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: "axontask://tasks/" + done + "/events"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("another tenant's resource: %v", err)
	}
	if _, err := s.ReadResource(t.Context(), &mcp.ReadResourceParams{URI: "axontask://tasks/nope/events"}); err == nil || !strings.Contains(err.Error(), "not a task id") {
		t.Errorf("a resource with a bad id: %v", err)
	}
}

// The endpoint refuses requests without a valid bearer credential before
// any MCP processing, bounds bodies, and leaves the REST routes under
// /mcp/ as they were.
func TestHTTPEndpointGuards(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	// answer is a response whose body was read and closed.
	type answer struct {
		status int
		header http.Header
		body   string
	}
	post := func(path, bearer, body string) answer {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		got, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(got)}
	}
	// A missing or wrong key: 401, a problem document that says what to
	// send, and a challenge without resource_metadata (no OAuth to
	// discover), with RFC 6750's invalid_token when a credential came.
	for _, bearer := range []string{"", "axt_bogus_key", "not.a.jwt"} {
		a := post(mcpserver.Path, bearer, initialize)
		var problem struct {
			Type   string `json:"type"`
			Status int    `json:"status"`
			Detail string `json:"detail"`
			Field  string `json:"field"`
		}
		challenge := a.header.Get("WWW-Authenticate")
		wantChallenge := `Bearer realm="axontask"`
		if bearer != "" {
			wantChallenge += `, error="invalid_token", error_description=`
		}
		if a.status != http.StatusUnauthorized || !strings.HasPrefix(challenge, wantChallenge) || strings.Contains(challenge, "resource_metadata") ||
			a.header.Get("Content-Type") != "application/problem+json" || json.Unmarshal([]byte(a.body), &problem) != nil ||
			problem.Type != "urn:axontask:problem:unauthenticated" || problem.Status != 401 || problem.Field != "Authorization" ||
			!strings.Contains(problem.Detail, "Authorization: Bearer <") {
			t.Errorf("bearer %q: %d %q %s", bearer, a.status, challenge, a.body)
		}
		if bearer != "" && strings.Contains(a.body, bearer) {
			t.Errorf("the 401 repeats the credential: %s", a.body)
		}
	}
	// No OAuth metadata to discover.
	prm, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+"/.well-known/oauth-protected-resource/mcp", nil)
	if resp, err := http.DefaultClient.Do(prm); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("protected resource metadata: %v %v", resp, err)
	} else {
		_ = resp.Body.Close()
	}
	a := post(mcpserver.Path, b.keys[tenantA], initialize)
	if a.status != http.StatusOK || !strings.Contains(a.body, `"protocolVersion":"2025-11-25"`) || a.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("initialize with a key: %d %s", a.status, a.body)
	}
	a = post(mcpserver.Path, b.keys[tenantA], `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"`+strings.Repeat("x", mcpserver.DefaultMaxRequestBodyBytes)+`"}}`)
	if a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over the bound: %d", a.status)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+mcpserver.Path, nil)
	req.Header.Set("Authorization", "Bearer "+b.keys[tenantA])
	req.Header.Set("Accept", "text/event-stream")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /mcp: %v %v", resp, err)
	} else {
		_ = resp.Body.Close()
	}

	// The REST routes under /mcp/ answer as before.
	a = post("/mcp/start_task", b.keys[tenantA], `{"name":"rest","adapter":"mock","args":{"steps":1,"interval_ms":1}}`)
	var started struct {
		TaskID    string `json:"task_id"`
		StreamURL string `json:"stream_url"`
	}
	if err := json.Unmarshal([]byte(a.body), &started); err != nil || a.status != http.StatusCreated || started.StreamURL != "/mcp/tasks/"+started.TaskID+"/stream" {
		t.Fatalf("POST /mcp/start_task: %d %s", a.status, a.body)
	}
	if a := post("/mcp/start_task", "", `{}`); a.status != http.StatusUnauthorized || a.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("POST /mcp/start_task without a key: %d %s", a.status, a.header.Get("Content-Type"))
	}
	for _, path := range []string{"/mcp/tasks/" + started.TaskID + "/status", "/mcp/tasks/" + started.TaskID + "/stream"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, b.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+b.keys[tenantA])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), started.TaskID) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if a := post("/mcp/", b.keys[tenantA], `{}`); a.status != http.StatusNotFound {
		t.Errorf("POST /mcp/: %d", a.status)
	}
}
