package docker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/docker"
	"github.com/axontask/axontask/internal/testdocker"
)

// newExecutor returns an executor of the test engine for workerID, with a
// grace period of a second.
func newExecutor(t *testing.T, workerID string) *docker.Executor {
	t.Helper()
	e, err := docker.New(docker.Config{Host: testdocker.Host(t), WorkerID: workerID, GracePeriod: time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// shArgs are the args of a task that runs script with the test image's sh.
func shArgs(script string) *domain.DockerArgs {
	return &domain.DockerArgs{Image: testdocker.Image, Command: []string{"sh", "-c", script}, Pull: domain.PullNever, Network: domain.DockerNetworkNone}
}

// containersOf lists the containers of the engine labelled with task's id.
func containersOf(t *testing.T, task executors.Task) []string {
	t.Helper()
	list, err := testdocker.Client(t).ContainerList(context.WithoutCancel(t.Context()), client.ContainerListOptions{
		All: true, Filters: make(client.Filters).Add("label", docker.LabelTask+"="+task.ID),
	})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var left []string
	for _, c := range list.Items {
		left = append(left, fmt.Sprintf("container %s (%s)", c.ID, c.State))
	}
	return left
}

// sink records a task's output.
type sink struct {
	stdout, stderr []byte
	progress       []string
}

func (s *sink) Output(stream domain.OutputStream, data []byte) {
	if stream == domain.Stdout {
		s.stdout = append(s.stdout, data...)
	} else {
		s.stderr = append(s.stderr, data...)
	}
}

func (s *sink) Progress(_ float64, message string) { s.progress = append(s.progress, message) }

// run runs args with limits on e to the end.
func run(t *testing.T, e *docker.Executor, args *domain.DockerArgs, limits domain.TaskLimits, secrets map[string]string) (*sink, executors.Result, error) {
	t.Helper()
	s := &sink{}
	res, err := e.Run(t.Context(), executors.Task{ID: "11111111-2222-4333-8444-" + fmt.Sprintf("%012d", time.Now().UnixNano()%1e12), TenantID: "t1", Adapter: domain.AdapterDocker, Args: args, Attempt: 1, Limits: limits, Secrets: secrets}, s)
	return s, res, err
}
