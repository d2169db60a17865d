package main

import (
	"strings"
	"testing"
	"time"
)

// A shell task whose cwd leaves its work directory, or whose env would make
// the loader or a shell run code its command does not name, is refused at
// start over real HTTP: a 400 problem naming the field, and no task.
func TestShellInputRefusedAtStart(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	for _, tc := range []struct{ args, field, detail string }{
		{`{"command":["ls"],"cwd":"/etc"}`, "args.cwd", "cannot be absolute"},
		{`{"command":["ls"],"cwd":"../../../../etc"}`, "args.cwd", "leave it with .."},
		{`{"command":["ls"],"cwd":"` + dev.dataDir + `"}`, "args.cwd", "relative to the task's work directory"},
		{`{"command":["ls"],"env":{"LD_PRELOAD":"/work/x.so"}}`, "args.env.LD_PRELOAD", "refused by the sandbox policy"},
		{`{"command":["ls"],"env":{"BASH_ENV":"x.sh"}}`, "args.env.BASH_ENV", "refused by the sandbox policy"},
		{`{"command":["ls"],"env":{"PATH":".:/usr/bin"}}`, "args.env.PATH", "relative entry"},
		{`{"command":["ls"],"env":{"PATH":"/usr/bin:/tmp"}}`, "args.env.PATH", "where tasks can write"},
	} {
		var p struct {
			Status int    `json:"status"`
			Field  string `json:"field"`
			Detail string `json:"detail"`
		}
		body := `{"name":"refused","adapter":"shell","args":` + tc.args + `}`
		if s := call(t, "POST", dev.base+"/mcp/start_task", dev.key, body, &p); s != 400 || p.Status != 400 || p.Field != tc.field || !strings.Contains(p.Detail, tc.detail) {
			t.Errorf("start with args %s: %d %+v; want a 400 problem naming %s and saying %q", tc.args, s, p, tc.field, tc.detail)
		}
	}

	// One task that is allowed, so that once the task list shows it, it
	// would show the refused ones too, had any started.
	var started struct {
		TaskID string `json:"task_id"`
	}
	if s := call(t, "POST", dev.base+"/mcp/start_task", dev.key, `{"name":"allowed","adapter":"shell","args":{"command":["true"],"cwd":"","env":{"PATH":"/usr/bin:/bin"}}}`, &started); s != 201 {
		t.Fatalf("start of an allowed shell task: %d", s)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var list struct {
			Tasks []struct {
				TaskID string `json:"task_id"`
			} `json:"tasks"`
		}
		if s := call(t, "GET", dev.base+"/v1/tasks", dev.key, "", &list); s != 200 {
			t.Fatalf("GET /v1/tasks: %d", s)
		}
		if len(list.Tasks) > 0 {
			if len(list.Tasks) != 1 || list.Tasks[0].TaskID != started.TaskID {
				t.Fatalf("GET /v1/tasks = %+v; want only the allowed task %s", list.Tasks, started.TaskID)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("GET /v1/tasks never listed the allowed task")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
