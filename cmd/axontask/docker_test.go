package main

import (
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/internal/testdocker"
)

// dev runs docker tasks on the engine -docker-host names: the output
// streams into the log, and a task that cannot start fails with the reason.
func TestDevRunsDockerTasks(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil, "-docker-host", testdocker.Host(t))
	authorize(t, dev.base, dev.key)
	out, last := runTask(t, dev.base, domain.AdapterDocker, map[string]any{
		"image": testdocker.Image, "pull": "never",
		"command": []string{"sh", "-c", `echo "hello from $(id -u) in $(pwd)"; echo oops >&2; exit 4`},
	})
	if !strings.Contains(out, "hello from 65534 in /work\n") || !strings.Contains(out, "oops\n") {
		t.Errorf("output %q", out)
	}
	if last.Type != domain.TaskFailedType || !strings.Contains(string(last.Payload), `"exit_code":4`) {
		t.Errorf("last event %s %s, want task.failed with exit code 4", last.Type, last.Payload)
	}
	_, last = runTask(t, dev.base, domain.AdapterDocker, map[string]any{"image": "localhost/not-here:1", "pull": "never"})
	if last.Type != domain.TaskFailedType || !strings.Contains(string(last.Payload), `is not on the worker's engine, and args.pull is \"never\"`) {
		t.Errorf("last event %s %s, want task.failed saying the image is missing", last.Type, last.Payload)
	}
}

// Without an engine, dev starts, says so, and docker tasks fail with the
// reason.
func TestDevWithoutDockerEngine(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil, "-docker-host", "unix://"+t.TempDir()+"/no.sock")
	authorize(t, dev.base, dev.key)
	_, last := runTask(t, dev.base, domain.AdapterDocker, map[string]any{"image": "alpine:3.20"})
	if last.Type != domain.TaskFailedType || !strings.Contains(string(last.Payload), "does not answer") {
		t.Errorf("last event %s %s, want task.failed saying the engine does not answer", last.Type, last.Payload)
	}
}
