package mcpserver

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// liftTask moves a tools/call's "task" into its _meta, keeping what _meta
// held, and leaves every other message as it came.
func TestLiftTask(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, method, params string
		want                 string // the params after; empty: unchanged
	}{
		{"task", "tools/call", `{"name":"start_task","task":{"ttl":5}}`, `{"_meta":{"dev.axontask/task":{"ttl":5}},"name":"start_task"}`},
		{"task and _meta", "tools/call", `{"name":"x","_meta":{"progressToken":1},"task":{}}`, `{"_meta":{"dev.axontask/task":{},"progressToken":1},"name":"x"}`},
		{"null _meta", "tools/call", `{"name":"x","_meta":null,"task":{}}`, `{"_meta":{"dev.axontask/task":{}},"name":"x"}`},
		{"no task", "tools/call", `{"name":"x"}`, ""},
		{"another method", "tasks/get", `{"taskId":"x","task":{}}`, ""},
		{"params not an object", "tools/call", `[1]`, ""},
		{"_meta not an object", "tools/call", `{"_meta":7,"task":{}}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			id, _ := jsonrpc.MakeID(float64(1))
			req := &jsonrpc.Request{ID: id, Method: c.method, Params: json.RawMessage(c.params)}
			got, ok := liftTask(req).(*jsonrpc.Request)
			if !ok {
				t.Fatal("not a request")
			}
			want := c.want
			if want == "" {
				want = c.params
				if got != req {
					t.Errorf("changed to %s", got.Params)
				}
			}
			if string(got.Params) != want || got.Method != c.method || got.ID != id {
				t.Errorf("got %s %s, want %s", got.Method, got.Params, want)
			}
		})
	}
	resp := &jsonrpc.Response{}
	if liftTask(resp) != jsonrpc.Message(resp) {
		t.Error("a response changed")
	}
}

// stateMessage says why a queued task waits: its plan's limit, or the
// backoff of a retry, with when the attempt is due.
func TestStateMessageOfAWaitingRetry(t *testing.T) {
	t.Parallel()
	due := api.Time{Time: time.Date(2026, 12, 7, 4, 0, 1, 0, time.UTC)}
	got := stateMessage(api.Task{State: domain.StateQueued, Attempt: 2, NextAttemptAt: &due}, nil, nil)
	if want := "queued: an attempt failed; attempt 2 is due at 2026-12-07T04:00:01.000000Z"; got != want {
		t.Errorf("stateMessage = %q, want %q", got, want)
	}
}
