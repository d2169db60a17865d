package fly_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/flymachines"
	"github.com/axontask/axontask/internal/testwait"
)

// appMachine is the config of a machine of the app before a deploy:
// image v1, one health check, running program.
func appMachine(program ...string) flymachines.MachineConfig {
	return flymachines.MachineConfig{Image: "registry.fly.io/app:v1", Init: flymachines.Init{Cmd: program},
		Checks: map[string]json.RawMessage{"http": json.RawMessage(`{"type":"http","port":8080,"path":"/healthz"}`)}}
}

// deployTask returns a task that deploys image to testApp.
func deployTask(t *testing.T, image string) string {
	t.Helper()
	return `{"mode":"deploy","app":"` + testApp + `","image":"` + image + `","token":{"secret":"FLY_TOKEN"},"health_timeout_s":1}`
}

func TestDeploySucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ids := []string{h.api.AddMachine(testApp, appMachine("serve")), h.api.AddMachine(testApp, appMachine("serve")), h.api.AddMachine(testApp, appMachine("serve"))}
	before := h.api.Machines(testApp)
	res, rec, err := h.run(t.Context(), t, task(t, deployTask(t, "registry.fly.io/app:v2")))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	for i, m := range h.api.Machines(testApp) {
		if m.Image != "registry.fly.io/app:v2" || m.State != "started" || m.Checks["http"] != "passing" || m.InstanceID == before[i].InstanceID {
			t.Errorf("machine %s after the deploy: %+v; want a new version of v2, started, passing", m.ID, m)
		}
	}
	progress := strings.Join(rec.progress(), "\n")
	for i, id := range ids {
		n := string(rune('1' + i))
		if missing := containsAll(progress, "machine "+n+"/3 "+id+": updating", "machine "+n+"/3 "+id+": started, health checks passing"); missing != "" {
			t.Errorf("progress does not say %q:\n%s", missing, progress)
		}
	}
	// One at a time: machine 2 is updated after machine 1 passed.
	if strings.Index(progress, "2/3 "+ids[1]+": updating") < strings.Index(progress, "1/3 "+ids[0]+": started, health checks passing") {
		t.Errorf("machine 2 was updated before machine 1 was healthy:\n%s", progress)
	}
}

func TestDeployStopsAtTheFirstFailingMachine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		programs  [][]string // of machines 1, 2, 3
		image     string
		failAt    int
		reason    string
		leftState string
	}{
		{"a machine that exits", [][]string{{"serve"}, {"exit-if-image:v2", "serve"}, {"serve"}}, "registry.fly.io/app:v2", 1, "stopped", "stopped (exit code 1)"},
		{"health checks failing", [][]string{{"serve"}, {"serve"}, {"serve"}}, "registry.fly.io/app:bad-health", 0, "health checks did not all pass within 1s: http critical", "started, health checks: http critical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			var ids []string
			for _, p := range tc.programs {
				ids = append(ids, h.api.AddMachine(testApp, appMachine(p...)))
			}
			res, rec, err := h.run(t.Context(), t, task(t, deployTask(t, tc.image)))
			if err != nil || res.ExitCode != 1 {
				t.Fatalf("Run = %+v, %v; want exit code 1", res, err)
			}
			if missing := containsAll(res.Summary, "stopped at machine", ids[tc.failAt], tc.reason); missing != "" {
				t.Errorf("summary %q does not say %q", res.Summary, missing)
			}
			report := rec.output(domain.Stderr)
			for i, m := range h.api.Machines(testApp) {
				var want string
				switch {
				case i < tc.failAt:
					want = m.ID + ": on " + tc.image + ", started, health checks passing"
					if m.Image != tc.image {
						t.Errorf("machine %d is on %s, want %s", i+1, m.Image, tc.image)
					}
				case i == tc.failAt:
					want = m.ID + ": on " + tc.image + ", " + tc.leftState
				default:
					want = m.ID + ": not touched, still on registry.fly.io/app:v1, started"
					if m.Image != "registry.fly.io/app:v1" {
						t.Errorf("machine %d after the failing one was updated to %s", i+1, m.Image)
					}
				}
				if !strings.Contains(report, want) {
					t.Errorf("the report does not say %q:\n%s", want, report)
				}
			}
		})
	}
}

func TestDeployLeavesRunMachinesAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	app := h.api.AddMachine(testApp, appMachine("serve"))
	run := h.api.AddMachine(testApp, flymachines.MachineConfig{Image: "registry.fly.io/test:1", Metadata: map[string]string{"axontask_task_id": "t1"}})
	res, _, err := h.run(t.Context(), t, task(t, deployTask(t, "registry.fly.io/app:v2")))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	for _, m := range h.api.Machines(testApp) {
		if m.ID == app && m.Image != "registry.fly.io/app:v2" || m.ID == run && m.Image != "registry.fly.io/test:1" {
			t.Errorf("machine %s is on %s after the deploy", m.ID, m.Image)
		}
	}
}

func TestDeployAnEmptyApp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, _, err := h.run(t.Context(), t, task(t, deployTask(t, "registry.fly.io/app:v2")))
	if err == nil || !strings.Contains(err.Error(), "has no machines to deploy to") {
		t.Fatalf("Run = %v; want a StartError saying the app has no machines", err)
	}
}

func TestDeployLeavesStoppedMachinesStopped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.api.AddMachine(testApp, appMachine("serve"))
	asleep := h.api.AddMachine(testApp, appMachine("serve"))
	stopMachine(t, h.api, asleep)
	res, _, err := h.run(t.Context(), t, task(t, deployTask(t, "registry.fly.io/app:v2")))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	for _, m := range h.api.Machines(testApp) {
		want := "started"
		if m.ID == asleep {
			want = "stopped"
		}
		if m.Image != "registry.fly.io/app:v2" || m.State != want {
			t.Errorf("machine %s after the deploy: %s, %s; want v2, %s", m.ID, m.Image, m.State, want)
		}
	}
}

func TestDeployCanceled(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.api.AddMachine(testApp, appMachine("serve"))
	h.api.AddMachine(testApp, appMachine("serve"))
	ctx, cancel := context.WithCancelCause(t.Context())
	rec := &recorder{t: t}
	done := make(chan error, 1)
	go func() {
		_, err := h.exec.Run(ctx, task(t, `{"mode":"deploy","app":"`+testApp+`","image":"registry.fly.io/app:bad-health","token":{"secret":"FLY_TOKEN"},"health_timeout_s":600}`), rec)
		rec.done.Store(true)
		done <- err
	}()
	testwait.For(t, "the deploy to wait for machine 1's checks", func() bool {
		return strings.Contains(strings.Join(rec.progress(), "\n"), "waiting for its health checks")
	})
	cancel(errCanceledByUser)
	if err := <-done; !errors.Is(err, errCanceledByUser) {
		t.Fatalf("Run = %v, want the cancel's cause", err)
	}
	if missing := containsAll(rec.output(domain.Stderr), "the deploy was canceled", first+": on registry.fly.io/app:bad-health", "not touched"); missing != "" {
		t.Errorf("the report does not say %q:\n%s", missing, rec.output(domain.Stderr))
	}
}
