package fly_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/internal/flymachines"
	"github.com/axontask/axontask/internal/testwait"
)

func TestRunSucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := runTask(t, "print:hello", "lines:3")
	res, rec, err := h.run(t.Context(), t, tk)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v; want exit code 0", res, err)
	}
	if got, want := rec.output(domain.Stdout), "hello\nline 1\nline 2\nline 3\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if missing := containsAll(strings.Join(rec.progress(), "\n"), "created machine", "destroyed, exit code 0"); missing != "" {
		t.Errorf("progress %q does not say %q", rec.progress(), missing)
	}
	ms := h.api.Machines(testApp)
	if len(ms) != 1 || ms[0].Metadata["axontask_task_id"] != tk.ID || ms[0].Metadata["axontask_attempt"] != "1" {
		t.Errorf("machines = %+v; want one with the task's id and attempt in its metadata", ms)
	}
	h.assertNothingLeft(t)
}

func TestRunSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := task(t, `{"app":"`+testApp+`","image":"i","token":{"secret":"FLY_TOKEN"},"command":["printenv:DB","printenv:MODE"],"env":{"DB":{"secret":"DB_PASSWORD"},"MODE":"ci"}}`)
	tk.Secrets["DB_PASSWORD"] = "s3cret"
	res, rec, err := h.run(t.Context(), t, tk)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if got := rec.output(domain.Stdout); got != "s3cret\nci\n" {
		t.Errorf("stdout = %q; want the resolved env values (the worker masks secrets)", got)
	}
	// A reference to a secret the worker did not resolve.
	delete(tk.Secrets, "DB_PASSWORD")
	_, _, err = h.run(t.Context(), t, tk)
	var se *executors.StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `args.env.DB: secret "DB_PASSWORD" does not exist`) {
		t.Errorf("Run with a missing secret = %v; want a StartError naming args.env.DB", err)
	}
}

func TestRunStartErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name  string
		task  func() executors.Task
		wants []string
		// limit: a LimitError, not a StartError; permanent: a
		// StartError that no retry may follow.
		limit, permanent bool
	}{
		{"a wrong token", func() executors.Task {
			tk := runTask(t, "exit:0")
			tk.Secrets[tokenName] = otherToken
			return tk
		}, []string{"401", "secret FLY_TOKEN", "fly tokens create deploy -a " + testApp}, false, true},
		{"an unknown app", func() executors.Task {
			return task(t, `{"app":"no-such-app","image":"i","token":{"secret":"FLY_TOKEN"}}`)
		}, []string{"404", "fly apps create no-such-app"}, false, true},
		{"a machine larger than the plan", func() executors.Task {
			tk := task(t, `{"app":"`+testApp+`","image":"i","token":{"secret":"FLY_TOKEN"},"guest":{"cpus":2,"memory_mb":1024}}`)
			tk.Limits = domain.TaskLimits{MemoryBytes: 512 << 20}
			return tk
		}, []string{"args.guest.memory_mb", "512 MB"}, true, false},
		{"args of another adapter", func() executors.Task {
			return executors.Task{ID: "x", Args: &domain.MockArgs{}}
		}, []string{"*domain.FlyArgs"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := h.run(t.Context(), t, tc.task())
			var se *executors.StartError
			var le *executors.LimitError
			switch {
			case tc.limit && !errors.As(err, &le):
				t.Fatalf("Run = %v, want a *executors.LimitError", err)
			case !tc.limit && !errors.As(err, &se):
				t.Fatalf("Run = %v, want a *executors.StartError", err)
			case !tc.limit && se.Permanent != tc.permanent:
				t.Fatalf("Run = %v, permanent %v; want %v", err, se.Permanent, tc.permanent)
			}
			if missing := containsAll(err.Error(), tc.wants...); missing != "" {
				t.Errorf("error %q does not say %q", err, missing)
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), otherToken) {
				t.Errorf("error %q holds the token", err)
			}
		})
	}
	if n := h.api.Requests("create"); n != 0 {
		t.Errorf("%d machines were created for tasks that could not start", n)
	}
}

func TestRunRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.api.Fail(flymachines.Fault{Method: "POST", PathContains: "/machines", Status: 429, RetryAfter: "7", Times: 2})
	h.api.Fail(flymachines.Fault{PathContains: "/wait", Status: 503, Times: 2})
	h.api.Fail(flymachines.Fault{PathContains: "/logs", Status: 502, Times: 1})
	res, rec, err := h.run(t.Context(), t, runTask(t, "print:ok"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if got := rec.output(domain.Stdout); got != "ok\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := h.api.Requests("create"); got != 3 {
		t.Errorf("create was called %d times, want 3 (two 429s)", got)
	}
	if p := <-h.pauses; p < 7*time.Second {
		t.Errorf("the first pause after a 429 with Retry-After: 7 was %s", p)
	}
	if len(h.api.Machines(testApp)) != 1 {
		t.Errorf("machines = %+v, want one", h.api.Machines(testApp))
	}
	h.assertNothingLeft(t)
}

func TestRunCreateFailsAfterCreating(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A 500 on create is not retried blindly: it may have created the
	// machine, as here, where the machine was created and the answer lost.
	h.api.Fail(flymachines.Fault{Method: "POST", PathContains: "/machines", Status: 500, Times: 1, After: true})
	res, rec, err := h.run(t.Context(), t, runTask(t, "print:once", "exit:0"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if got := h.api.Requests("list"); got != 2 {
		t.Errorf("list was called %d times, want 2 (before the create, and after its 500)", got)
	}
	if n := len(h.api.Machines(testApp)); n != 1 {
		t.Errorf("%d machines were created, want 1", n)
	}
	if got := rec.output(domain.Stdout); got != "once\n" {
		t.Errorf("stdout = %q", got)
	}
	h.assertNothingLeft(t)
}

func TestRunCanceledDuringCreateLeavesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The task is canceled while its create is answered: the machine
	// exists, the executor never learns its id, and destroys it all the
	// same.
	ctx, cancel := context.WithCancelCause(t.Context())
	h.api.Fail(flymachines.Fault{Method: "POST", PathContains: "/machines", Status: 502, After: true, OnAnswer: func() { cancel(errCanceledByUser) }})
	_, _, err := h.run(ctx, t, runTask(t, "serve"))
	if !errors.Is(err, errCanceledByUser) {
		t.Fatalf("Run = %v, want the cancel's cause", err)
	}
	if n := len(h.api.Machines(testApp)); n != 1 {
		t.Fatalf("%d machines were created; the test needs one", n)
	}
	h.assertNothingLeft(t)
}

func TestRunGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.api.Fail(flymachines.Fault{PathContains: "/machines", Method: "GET", Status: 503, Times: 1000})
	_, _, err := h.run(t.Context(), t, runTask(t, "exit:0"))
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("Run = %v, want the 503", err)
	}
	if got := h.api.Requests("list"); got != 6 {
		t.Errorf("list was called %d times, want 6 (DefaultMaxAttempts)", got)
	}
}

// TestRunFindsTheMachineOfALostAttempt: attempt 1's worker died after
// creating its machine; attempt 2 follows that machine instead of creating
// another.
func TestRunFindsTheMachineOfALostAttempt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tk := runTask(t, "print:never run")
	id := h.api.AddMachine(testApp, flymachines.MachineConfig{Image: "registry.fly.io/test:1", AutoDestroy: true,
		Init:     flymachines.Init{Cmd: []string{"print:from attempt 1", "sleep:100ms", "exit:4"}},
		Metadata: map[string]string{"axontask_task_id": tk.ID, "axontask_attempt": "1"}})
	tk.Attempt = 2
	res, rec, err := h.run(t.Context(), t, tk)
	if err != nil || res.ExitCode != 4 {
		t.Fatalf("Run = %+v, %v; want the exit code 4 of attempt 1's machine", res, err)
	}
	if n := h.api.Requests("create"); n != 0 {
		t.Errorf("attempt 2 created %d machines, want none", n)
	}
	if got := rec.output(domain.Stdout); got != "from attempt 1\n" {
		t.Errorf("stdout = %q", got)
	}
	if p := rec.progress(); len(p) == 0 || !strings.Contains(p[0], "found machine "+id+" of attempt 1") {
		t.Errorf("progress = %q; want it to say the machine was found again", p)
	}
	h.assertNothingLeft(t)
}

// TestRunAfterAnAttemptWhoseMachineIsGone: an earlier attempt's machine
// that ran to its end and was destroyed still tells the task's result; one
// that was stopped on request (the attempt was canceled, its worker shut
// down) does not, and the work runs again.
func TestRunAfterAnAttemptWhoseMachineIsGone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		stop        bool
		failed      bool // the log records attempt 1's failure: a retry
		wantCode    int
		wantCreates int
	}{
		{"it ran to its end", false, false, 5, 0},
		{"it was stopped", true, false, 0, 1},
		{"its failure was recorded and retried", false, true, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			tk := runTask(t, "print:again")
			program := []string{"exit:5"}
			if tc.stop {
				program = []string{"serve"}
			}
			id := h.api.AddMachine(testApp, flymachines.MachineConfig{Image: "registry.fly.io/test:1", AutoDestroy: true, Init: flymachines.Init{Cmd: program},
				Metadata: map[string]string{"axontask_task_id": tk.ID, "axontask_attempt": "1"}})
			if tc.stop {
				stopMachine(t, h.api, id)
			}
			testwait.For(t, "attempt 1's machine to be destroyed", func() bool { return h.api.Machines(testApp)[0].State == "destroyed" })
			tk.Attempt = 2
			if tc.failed {
				tk.LastFailedAttempt = 1
			}
			res, _, err := h.run(t.Context(), t, tk)
			if err != nil || res.ExitCode != tc.wantCode {
				t.Fatalf("Run = %+v, %v; want exit code %d", res, err, tc.wantCode)
			}
			if n := h.api.Requests("create"); n != tc.wantCreates {
				t.Errorf("attempt 2 created %d machines, want %d", n, tc.wantCreates)
			}
			h.assertNothingLeft(t)
		})
	}
}

// stopMachine stops a machine of testApp through the API, as an earlier
// attempt that was canceled did.
func stopMachine(t *testing.T, api *flymachines.Server, id string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, api.URL+"/v1/apps/"+testApp+"/machines/"+id+"/stop", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stop: %s", resp.Status)
	}
}
