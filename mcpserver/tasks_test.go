package mcpserver_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/mcpserver"
)

// rpcAnswer is a JSON-RPC answer: a result or an error.
type rpcAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int             `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	} `json:"error"`
}

// extensionMeta is the per-request _meta of a 2026-07-28 client that
// declares the tasks extension (withExtension) or not.
func extensionMeta(withExtension bool) map[string]any {
	caps := map[string]any{}
	if withExtension {
		caps["extensions"] = map[string]any{mcpserver.ExtensionTasks: map[string]any{}}
	}
	return map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "axontask-tests", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": caps,
	}
}

// rpc posts one JSON-RPC request to the bundle's /mcp as tenant, speaking
// protocol version, and returns its answer (the last message of an SSE
// answer).
func (b *bundle) rpc(t *testing.T, tenant, version, method string, params map[string]any) rpcAnswer {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, b.url+mcpserver.Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+b.keys[tenant])
	req.Header.Set("Mcp-Protocol-Version", version)
	req.Header.Set("Mcp-Method", method)
	if name, ok := params["name"].(string); ok {
		req.Header.Set("Mcp-Name", name)
	}
	if id, ok := params["taskId"].(string); ok {
		req.Header.Set("Mcp-Name", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	// Under 2026-07-28 the SDK answers a JSON-RPC error with 400.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s: %d %s", method, resp.StatusCode, raw)
	}
	data := raw
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				data = []byte(d)
			}
		}
	}
	var a rpcAnswer
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("%s: %v: %s", method, err, raw)
	}
	return a
}

// mcpTask is a task of either revision.
type mcpTask struct {
	ResultType     string          `json:"resultType"`
	TaskID         string          `json:"taskId"`
	Status         string          `json:"status"`
	StatusMessage  string          `json:"statusMessage"`
	CreatedAt      string          `json:"createdAt"`
	LastUpdatedAt  string          `json:"lastUpdatedAt"`
	TTL            json.RawMessage `json:"ttl"`
	TTLMs          json.RawMessage `json:"ttlMs"`
	PollInterval   int64           `json:"pollInterval"`
	PollIntervalMs int64           `json:"pollIntervalMs"`
	Result         *struct {
		IsError           bool `json:"isError"`
		StructuredContent struct {
			TaskID string `json:"task_id"`
			State  string `json:"state"`
		} `json:"structuredContent"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
	} `json:"result"`
}

// ok decodes a's result into T; an error answer fails the test.
func ok[T any](t *testing.T, a rpcAnswer, what string) T {
	t.Helper()
	var v T
	if a.Error != nil {
		t.Fatalf("%s: error %d %s", what, a.Error.Code, a.Error.Message)
	}
	if err := json.Unmarshal(a.Result, &v); err != nil {
		t.Fatalf("%s: %v: %s", what, err, a.Result)
	}
	return v
}

// mockArgs are start_task's arguments for a mock task of steps steps.
func mockArgs(name string, steps, intervalMS int) map[string]any {
	return map[string]any{"name": name, "adapter": "mock", "args": map[string]any{"steps": steps, "interval_ms": intervalMS}}
}

// The 2025-11-25 tasks utility: the capability in initialize,
// execution.taskSupport in tools/list, start_task as a task, tasks/get
// until it ended, tasks/result, tasks/list, tasks/cancel, and the errors.
func TestTasksUtility(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	const v = "2025-11-25"
	init := ok[struct {
		Capabilities struct {
			Tasks json.RawMessage `json:"tasks"`
		} `json:"capabilities"`
	}](t, b.rpc(t, tenantA, v, "initialize", map[string]any{"protocolVersion": v, "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}}), "initialize")
	var tasksCap any
	if err := json.Unmarshal(init.Capabilities.Tasks, &tasksCap); err != nil || fmt.Sprint(tasksCap) != "map[cancel:map[] list:map[] requests:map[tools:map[call:map[]]]]" {
		t.Errorf("capabilities.tasks %s", init.Capabilities.Tasks)
	}
	tools := ok[struct {
		Tools []struct {
			Name      string          `json:"name"`
			Execution json.RawMessage `json:"execution"`
		} `json:"tools"`
	}](t, b.rpc(t, tenantA, v, "tools/list", nil), "tools/list")
	for _, tl := range tools.Tools {
		want := ""
		if tl.Name == "start_task" {
			want = `{"taskSupport":"optional"}`
		}
		if string(tl.Execution) != want {
			t.Errorf("%s: execution %s, want %q", tl.Name, tl.Execution, want)
		}
	}

	// A task-augmented start_task answers with the task at once.
	call := map[string]any{"name": "start_task", "arguments": mockArgs("as-task", 5, 50), "task": map[string]any{"ttl": 60000}}
	created := ok[struct {
		Task mcpTask        `json:"task"`
		Meta map[string]any `json:"_meta"`
	}](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call with task")
	task := created.Task
	if task.TaskID == "" || task.Status != "working" || string(task.TTL) != "null" || task.PollInterval != 1000 || task.CreatedAt == "" || task.LastUpdatedAt == "" {
		t.Fatalf("created %+v", task)
	}
	if s, _ := created.Meta["io.modelcontextprotocol/model-immediate-response"].(string); !strings.Contains(s, task.TaskID) {
		t.Errorf("model-immediate-response %v", created.Meta)
	}
	// The MCP task id is the AxonTask task id.
	status, _ := callOK[mcpserver.TaskStatusOutput](t, b.connect(t, tenantA, v), "get_task_status", map[string]any{"task_id": task.TaskID})
	if status.TaskID != task.TaskID {
		t.Fatalf("get_task_status %+v", status)
	}

	// tasks/result waits for the end; tasks/get then says completed.
	res := ok[struct {
		IsError           bool `json:"isError"`
		StructuredContent struct {
			TaskID string `json:"task_id"`
			State  string `json:"state"`
		} `json:"structuredContent"`
		Content []struct {
			Text string `json:"text"`
		} `json:"content"`
		Meta map[string]map[string]string `json:"_meta"`
	}](t, b.rpc(t, tenantA, v, "tasks/result", map[string]any{"taskId": task.TaskID}), "tasks/result")
	if res.IsError || res.StructuredContent.TaskID != task.TaskID || res.StructuredContent.State != "succeeded" ||
		res.Meta["io.modelcontextprotocol/related-task"]["taskId"] != task.TaskID || !strings.Contains(res.Content[0].Text, "succeeded") {
		t.Fatalf("tasks/result %+v", res)
	}
	got := ok[mcpTask](t, b.rpc(t, tenantA, v, "tasks/get", map[string]any{"taskId": task.TaskID}), "tasks/get")
	if got.Status != "completed" || got.TaskID != task.TaskID || got.Result != nil || got.StatusMessage != "succeeded" {
		t.Fatalf("tasks/get after the end %+v", got)
	}

	// A failing task is failed; its result an error.
	call["arguments"] = map[string]any{"name": "fails", "adapter": "mock", "args": map[string]any{"steps": 3, "interval_ms": 10, "fail_at_step": 2}}
	failing := ok[struct{ Task mcpTask }](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call failing")
	res.IsError = false
	if a := b.rpc(t, tenantA, v, "tasks/result", map[string]any{"taskId": failing.Task.TaskID}); !strings.Contains(string(a.Result), `"isError":true`) {
		t.Fatalf("tasks/result of a failed task %s", a.Result)
	}
	if got := ok[mcpTask](t, b.rpc(t, tenantA, v, "tasks/get", map[string]any{"taskId": failing.Task.TaskID}), "tasks/get"); got.Status != "failed" || !strings.HasPrefix(got.StatusMessage, "failed") {
		t.Fatalf("tasks/get of a failed task %+v", got)
	}

	// tasks/cancel answers with the task canceled; a second cancel is
	// invalid params.
	call["arguments"] = mockArgs("to-cancel", 1000, 100)
	long := ok[struct{ Task mcpTask }](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call long")
	canceled := ok[mcpTask](t, b.rpc(t, tenantA, v, "tasks/cancel", map[string]any{"taskId": long.Task.TaskID}), "tasks/cancel")
	if canceled.Status != "cancelled" || canceled.TaskID != long.Task.TaskID {
		t.Fatalf("tasks/cancel %+v", canceled)
	}
	if a := b.rpc(t, tenantA, v, "tasks/cancel", map[string]any{"taskId": long.Task.TaskID}); a.Error == nil || a.Error.Code != -32602 || !strings.Contains(a.Error.Message, "already ended") {
		t.Errorf("tasks/cancel of an ended task %+v", a.Error)
	}

	// tasks/list pages through the tenant's tasks; another tenant sees
	// none of them.
	seen := map[string]string{}
	cursor := ""
	for range 10 {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		page := ok[struct {
			Tasks      []mcpTask `json:"tasks"`
			NextCursor string    `json:"nextCursor"`
		}](t, b.rpc(t, tenantA, v, "tasks/list", params), "tasks/list")
		for _, tk := range page.Tasks {
			seen[tk.TaskID] = tk.Status
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for id, want := range map[string]string{task.TaskID: "completed", failing.Task.TaskID: "failed", long.Task.TaskID: "cancelled"} {
		if !waitListed(t, b, v, id, want, seen) {
			t.Errorf("tasks/list: %s is %q, want %s", id, seen[id], want)
		}
	}
	other := ok[struct{ Tasks []mcpTask }](t, b.rpc(t, tenantB, v, "tasks/list", nil), "tasks/list of B")
	if len(other.Tasks) != 0 {
		t.Errorf("tenant B lists %+v", other.Tasks)
	}
	if a := b.rpc(t, tenantB, v, "tasks/get", map[string]any{"taskId": task.TaskID}); a.Error == nil || a.Error.Code != -32602 {
		t.Errorf("tasks/get of another tenant's task %+v %s", a.Error, a.Result)
	}

	// Errors: a bad id, a tool that cannot run as a task, a bad cursor.
	for _, c := range []struct {
		method string
		params map[string]any
		code   int
		says   string
	}{
		{"tasks/get", map[string]any{"taskId": "nope"}, -32602, "not a task id"},
		{"tasks/result", map[string]any{"taskId": "0190f5e4-7c3a-7d1e-9b1a-2f6c1e0b9a11"}, -32602, "no task of yours"},
		{"tools/call", map[string]any{"name": "list_tasks", "arguments": map[string]any{}, "task": map[string]any{}}, -32601, "method not found"},
		{"tools/call", map[string]any{"name": "start_task", "arguments": map[string]any{"name": "x"}, "task": map[string]any{}}, -32602, "adapter"},
		{"tasks/list", map[string]any{"cursor": "garbage"}, -32602, "cursor"},
	} {
		a := b.rpc(t, tenantA, v, c.method, c.params)
		if a.Error == nil || a.Error.Code != c.code || !strings.Contains(a.Error.Message, c.says) {
			t.Errorf("%s %v: %+v %s", c.method, c.params, a.Error, a.Result)
		}
	}
}

// waitListed waits until tasks/list shows task id in status want (the
// list follows the log a moment behind), with seen holding what it saw.
func waitListed(t *testing.T, b *bundle, v, id, want string, seen map[string]string) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for seen[id] != want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		page := ok[struct{ Tasks []mcpTask }](t, b.rpc(t, tenantA, v, "tasks/list", nil), "tasks/list")
		for _, tk := range page.Tasks {
			seen[tk.TaskID] = tk.Status
		}
	}
	return seen[id] == want
}

// The io.modelcontextprotocol/tasks extension (2026-07-28): start_task
// answers with a task (resultType "task") to a client that declared the
// extension on its request; tasks/get inlines the result once it
// completed; tasks/cancel acknowledges; a client that did not declare it
// gets the plain result, and -32021 from the task methods.
func TestTasksExtension(t *testing.T) {
	t.Parallel()
	b := sqliteBundle(t)
	const v = "2026-07-28"
	discover := ok[struct {
		Capabilities struct {
			Extensions map[string]json.RawMessage `json:"extensions"`
		} `json:"capabilities"`
	}](t, b.rpc(t, tenantA, v, "server/discover", map[string]any{"_meta": extensionMeta(true)}), "server/discover")
	if string(discover.Capabilities.Extensions[mcpserver.ExtensionTasks]) != "{}" {
		t.Errorf("server/discover extensions %v", discover.Capabilities.Extensions)
	}

	call := map[string]any{"name": "start_task", "arguments": mockArgs("ext", 4, 50), "_meta": extensionMeta(true)}
	created := ok[mcpTask](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call")
	if created.ResultType != "task" || created.Status != "working" || string(created.TTLMs) != "null" || created.PollIntervalMs != 1000 || created.Result != nil {
		t.Fatalf("tools/call under the extension %+v", created)
	}
	get := map[string]any{"taskId": created.TaskID, "_meta": extensionMeta(true)}
	var got mcpTask
	for deadline := time.Now().Add(30 * time.Second); got.Status != "completed" && time.Now().Before(deadline); {
		time.Sleep(time.Duration(created.PollIntervalMs/10) * time.Millisecond)
		got = ok[mcpTask](t, b.rpc(t, tenantA, v, "tasks/get", get), "tasks/get")
		if got.ResultType != "complete" || got.TaskID != created.TaskID {
			t.Fatalf("tasks/get %+v", got)
		}
	}
	if got.Status != "completed" || got.Result == nil || got.Result.IsError || got.Result.StructuredContent.State != "succeeded" || got.Result.StructuredContent.TaskID != created.TaskID {
		t.Fatalf("tasks/get after the end %+v", got)
	}

	// A failed task completes with an error result (the extension keeps
	// "failed" for JSON-RPC errors).
	call["arguments"] = map[string]any{"name": "fails", "adapter": "mock", "args": map[string]any{"steps": 2, "interval_ms": 10, "fail_at_step": 1}}
	failing := ok[mcpTask](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call failing")
	get["taskId"] = failing.TaskID
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = ok[mcpTask](t, b.rpc(t, tenantA, v, "tasks/get", get), "tasks/get"); got.Status != "working" {
			break
		}
	}
	if got.Status != "completed" || got.Result == nil || !got.Result.IsError || got.Result.StructuredContent.State != "failed" {
		t.Fatalf("a failed task under the extension %+v", got)
	}

	call["arguments"] = mockArgs("to-cancel", 1000, 100)
	long := ok[mcpTask](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call long")
	ack := ok[map[string]any](t, b.rpc(t, tenantA, v, "tasks/cancel", map[string]any{"taskId": long.TaskID, "_meta": extensionMeta(true)}), "tasks/cancel")
	if delete(ack, "_meta"); fmt.Sprint(ack) != "map[resultType:complete]" {
		t.Errorf("tasks/cancel %v", ack)
	}
	get["taskId"] = long.TaskID
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = ok[mcpTask](t, b.rpc(t, tenantA, v, "tasks/get", get), "tasks/get"); got.Status != "working" {
			break
		}
	}
	if got.Status != "cancelled" || got.Result != nil {
		t.Errorf("a canceled task under the extension %+v", got)
	}

	// Without the extension on the request: the plain result, and -32021.
	call["_meta"] = extensionMeta(false)
	call["arguments"] = mockArgs("plain", 1, 1)
	plain := ok[struct {
		StructuredContent mcpserver.StartTaskOutput `json:"structuredContent"`
	}](t, b.rpc(t, tenantA, v, "tools/call", call), "tools/call without the extension")
	if plain.StructuredContent.TaskID == "" || plain.StructuredContent.ResumeToken == "" {
		t.Errorf("plain start_task %+v", plain)
	}
	a := b.rpc(t, tenantA, v, "tasks/get", map[string]any{"taskId": created.TaskID, "_meta": extensionMeta(false)})
	if a.Error == nil || a.Error.Code != -32021 || !strings.Contains(string(a.Error.Data), mcpserver.ExtensionTasks) {
		t.Errorf("tasks/get without the extension %+v", a.Error)
	}
}
