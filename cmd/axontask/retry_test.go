package main

import (
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
)

// waitTaskEnded polls the task's events on the API at base until the last
// one ends it, and returns them.
func waitTaskEnded(t *testing.T, base, id string) []domain.Event {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if events, ended := taskEvents(t, base, id); ended {
			return events
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("task %s did not end within 90 s", id)
	return nil
}

func countType(events []domain.Event, typ domain.EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// Production processes on Postgres and Redis: a task with on_interrupt
// "fail" whose worker is killed with kill -9 ends failed, saying why, and
// never runs again, though another worker is idle and its retry policy
// has attempts left; a flaky task with a retry policy succeeds on its
// third attempt, and its status counts three.
func TestRetryPolicyAcrossProcesses(t *testing.T) {
	t.Parallel()
	env := prodEnv(t, testpg.NewDatabase(t, testpg.Fast), testredis.URL(t))
	api := startProc(t, env, "serve", "-port", "0")
	w1 := startWorker(t, env, "w1", 2*time.Second)
	authorize(t, api.base, register(t, api.base, "retry@example.com"))

	id := startTask(t, api.base, `{"name":"deploy","adapter":"shell","args":{"command":["sh","-c","for i in $(seq 1 300); do echo tick $i; sleep 0.1; done"]},`+
		`"timeout_s":120,"on_interrupt":"fail","retry":{"max_attempts":3,"initial_interval_ms":1}}`)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if events, _ := taskEvents(t, api.base, id); countType(events, domain.TaskOutputType) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	w1.kill9(t)
	startWorker(t, env, "w2", 2*time.Second) // its watchdog finds the lease w1 left
	events := waitTaskEnded(t, api.base, id)
	end := events[len(events)-1]
	p, err := domain.Decode(end.Type, end.Payload)
	if err != nil || end.Type != domain.TaskFailedType || !strings.Contains(p.(*domain.TaskFailed).Error, `on_interrupt is "fail"`) {
		t.Fatalf("the interrupted task ended with %s %+v (%v), want task.failed naming on_interrupt", end.Type, p, err)
	}
	if n := countType(events, domain.TaskStartedType); n != 1 {
		t.Fatalf("the task started %d times, want once", n)
	}

	flaky := startTask(t, api.base, `{"name":"flaky","adapter":"mock","args":{"steps":1,"interval_ms":0,"fail_attempts":2},`+
		`"retry":{"max_attempts":3,"initial_interval_ms":100}}`)
	events = waitTaskEnded(t, api.base, flaky)
	if end := events[len(events)-1].Type; end != domain.TaskSucceededType || countType(events, domain.TaskAttemptFailedType) != 2 {
		t.Fatalf("the flaky task: %s after %d failed attempts, want task.succeeded after 2", end, countType(events, domain.TaskAttemptFailedType))
	}
	var st struct {
		State   string `json:"state"`
		Attempt int    `json:"attempt"`
	}
	getJSON(t, api.base+"/mcp/tasks/"+flaky+"/status", &st)
	if st.State != "succeeded" || st.Attempt != 3 {
		t.Fatalf("status %+v, want succeeded on attempt 3", st)
	}
}
