package docker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/docker"
	"github.com/axontask/axontask/internal/testdocker"
)

func TestContainerIsLockedDown(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, "lockdown-worker")
	limits := domain.TaskLimits{MemoryBytes: 64 << 20, Pids: 50, CPUMilli: 500, OpenFiles: 321, FileSizeBytes: 1 << 20, WorkDirBytes: 8 << 20}
	s, res, err := run(t, e, shArgs(`
		echo "uid $(id -u) gid $(id -g)"
		echo "pwd $(pwd)"
		grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status
		touch /bin/x 2>/dev/null && echo "root fs writable" || echo "root fs read-only"
		touch /work/x /tmp/x && echo "work and tmp writable"
		echo "nofile $(ulimit -n) fsize $(ulimit -f)"
		echo "interfaces $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
		head -c 7000000 /dev/zero > /work/big 2>/dev/null && echo "7 MB fit" || echo "7 MB do not fit in /work"
	`), limits, nil)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("Run = %+v, %v; stderr %s", res, err, s.stderr)
	}
	args := shArgs(`pwd`)
	args.Workdir = "/bin"
	s2, res, err := run(t, e, args, limits, nil)
	if err != nil || res.ExitCode != 0 || string(s2.stdout) != "/bin\n" {
		t.Errorf("an image's directory as workdir: Run = %+v, %v; stdout %q, stderr %q", res, err, s2.stdout, s2.stderr)
	}
	out := string(s.stdout)
	for _, want := range []string{
		"uid 65534 gid 65534", "pwd /work",
		"CapEff:\t0000000000000000", "CapBnd:\t0000000000000000", "NoNewPrivs:\t1",
		"root fs read-only", "work and tmp writable",
		"nofile 321 fsize 2048", // ulimit -f counts 512-byte blocks
		"interfaces lo \n",
		"7 MB do not fit in /work",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s\nstderr: %s", want, out, s.stderr)
		}
	}
}

func TestContainerResources(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, "resources-worker")
	c := testdocker.Client(t)
	// The container is inspected while it runs: its bounds are the lower
	// of the plan's and the args'.
	args := shArgs(`echo up; sleep 600`)
	args.MemoryMB, args.Pids = 32, 20
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	found := make(chan container.InspectResponse, 1)
	go func() {
		for ctx.Err() == nil {
			list, _ := c.ContainerList(ctx, client.ContainerListOptions{Filters: make(client.Filters).Add("label", docker.LabelWorker+"=resources-worker")})
			if len(list.Items) == 1 {
				info, err := c.ContainerInspect(ctx, list.Items[0].ID, client.ContainerInspectOptions{})
				if err == nil {
					found <- info.Container
					cancel()
					return
				}
			}
		}
	}()
	_, err := e.Run(ctx, executors.Task{ID: "resources-task", TenantID: "tenant-r", Attempt: 2, Args: args,
		Limits: domain.TaskLimits{MemoryBytes: 64 << 20, Pids: 100, CPUMilli: 1500}}, &sink{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	info := <-found
	hc := info.HostConfig
	if hc.Memory != 32<<20 || hc.MemorySwap != 32<<20 || hc.PidsLimit == nil || *hc.PidsLimit != 20 || hc.NanoCPUs != 1_500_000_000 {
		t.Errorf("resources: memory %d swap %d pids %v cpus %d", hc.Memory, hc.MemorySwap, hc.PidsLimit, hc.NanoCPUs)
	}
	if !hc.ReadonlyRootfs || string(hc.NetworkMode) != "none" {
		t.Errorf("read-only %v, network %q", hc.ReadonlyRootfs, hc.NetworkMode)
	}
	l := info.Config.Labels
	if l[docker.LabelTask] != "resources-task" || l[docker.LabelTenant] != "tenant-r" || l[docker.LabelAttempt] != "2" || l[docker.LabelWorker] != "resources-worker" {
		t.Errorf("labels %v", l)
	}
}

func TestUTF8CutBetweenFrames(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, "utf8-worker")
	var chunks []string
	rec := &chunkSink{add: func(data []byte) { chunks = append(chunks, string(data)) }}
	_, err := e.Run(t.Context(), executors.Task{ID: "utf8-task", Attempt: 1, Args: shArgs(`printf 'caf\303'; sleep 0.3; printf '\251!\n'`)}, rec)
	if err != nil || strings.Join(chunks, "") != "café!\n" {
		t.Fatalf("Run: %v; chunks %q", err, chunks)
	}
	for _, c := range chunks {
		if !utf8.ValidString(c) {
			t.Errorf("chunk %q splits a UTF-8 sequence (all: %q)", c, chunks)
		}
	}
}

// chunkSink passes each Output call's data to add.
type chunkSink struct{ add func([]byte) }

func (s *chunkSink) Output(_ domain.OutputStream, data []byte) { s.add(data) }
func (s *chunkSink) Progress(float64, string)                  {}

func TestEnvAndSecrets(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, "env-worker")
	args := shArgs(`echo "$PLAIN $TOKEN"`)
	args.Env = domain.SecretEnv{"PLAIN": domain.Lit("plain"), "TOKEN": {Ref: "TOKEN_SECRET"}}
	s, res, err := run(t, e, args, domain.TaskLimits{}, map[string]string{"TOKEN_SECRET": "s3cret"})
	if err != nil || res.ExitCode != 0 || string(s.stdout) != "plain s3cret\n" {
		t.Fatalf("Run = %+v, %v, stdout %q", res, err, s.stdout)
	}
	args.Env["OTHER"] = domain.SecretString{Ref: "MISSING"}
	_, _, err = run(t, e, args, domain.TaskLimits{}, map[string]string{"TOKEN_SECRET": "s3cret"})
	wantStartError(t, err, `args.env.OTHER: secret "MISSING" does not exist`)
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, "errors-worker")
	missing := shArgs("true")
	missing.Image = "localhost/axontask-test:missing"
	unpullable := shArgs("true")
	unpullable.Image, unpullable.Pull = "127.0.0.1:9/nothing:here", domain.PullMissing
	unpullable.RegistryAuth = &domain.RegistryAuth{Username: "bot", Password: domain.SecretString{Ref: "REG_PW"}}
	noSecret := shArgs("true")
	noSecret.RegistryAuth = &domain.RegistryAuth{Username: "bot", Password: domain.SecretString{Ref: "OTHER_PW"}}
	notFound := shArgs("")
	notFound.Command = []string{"no-such-program"}
	network := shArgs("true")
	network.Network = "bridge"
	greedy := shArgs("true")
	greedy.MemoryMB = 128
	for _, tc := range []struct {
		name   string
		args   *domain.DockerArgs
		limits domain.TaskLimits
		want   string
	}{
		{"an image that is missing with pull never", missing, domain.TaskLimits{}, `image "localhost/axontask-test:missing" is not on the worker's engine, and args.pull is "never"`},
		{"an image that cannot be pulled", unpullable, domain.TaskLimits{}, `pull image "127.0.0.1:9/nothing:here"`},
		{"a registry password that is no secret of the tenant", noSecret, domain.TaskLimits{}, `args.registry_auth.password: secret "OTHER_PW" does not exist`},
		{"a program the image lacks", notFound, domain.TaskLimits{}, "start the container"},
		{"a network the operator does not allow", network, domain.TaskLimits{Egress: true}, `args.network "bridge" is not allowed on this worker`},
		{"more memory than the plan", greedy, domain.TaskLimits{MemoryBytes: 64 << 20}, "args.memory_mb asks for 128 MiB, above the 64 MiB the tenant's plan allows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			task := executors.Task{ID: "start-error-" + strings.ReplaceAll(tc.name, " ", "-"), Args: tc.args, Attempt: 1, Limits: tc.limits, Secrets: map[string]string{"REG_PW": "hunter2"}}
			_, err := e.Run(t.Context(), task, &sink{})
			t.Logf("the reason: %v", err)
			wantStartError(t, err, tc.want)
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error tells the registry password: %v", err)
			}
			if left := containersOf(t, task); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestNetworkNeedsEgress(t *testing.T) {
	t.Parallel()
	e, err := docker.New(docker.Config{Host: testdocker.Host(t), WorkerID: "net-worker", Networks: []string{"bridge"}})
	if err != nil {
		t.Fatal(err)
	}
	args := shArgs("true")
	args.Network = "bridge"
	_, _, err = run(t, e, args, domain.TaskLimits{Egress: false}, nil)
	wantStartError(t, err, "the tenant's plan allows no network access")
}

func TestEngineUnreachable(t *testing.T) {
	t.Parallel()
	e, err := docker.New(docker.Config{Host: "unix://" + t.TempDir() + "/none.sock", WorkerID: "lonely-worker"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, e, shArgs("true"), domain.TaskLimits{}, nil)
	wantStartError(t, err, "does not answer")
	if err := e.Ping(t.Context()); err == nil || !strings.Contains(err.Error(), "DOCKER_HOST") {
		t.Errorf("Ping = %v", err)
	}
}

func TestOutOfMemory(t *testing.T) {
	t.Parallel()
	e := newExecutor(t, "oom-worker")
	// The shell keeps 64 MB in a variable; the container has 16 MiB.
	args := shArgs(`x=$(head -c 64000000 /dev/zero | tr '\0' a); echo survived ${#x}`)
	args.MemoryMB = 16
	s, res, err := run(t, e, args, domain.TaskLimits{}, nil)
	// An engine that reports the OOM kill gives a LimitError; one that
	// does not (podman on cgroups v1), SIGKILL's exit code and a hint.
	var le *executors.LimitError
	switch {
	case errors.As(err, &le) && strings.Contains(le.Reason, "out of memory: the task used all of its 16 MiB"):
	case err == nil && res.ExitCode == 137 && strings.Contains(res.Summary, "runs out of its 16 MiB of memory"):
	default:
		t.Fatalf("Run = %+v, %v; stdout %q; want a LimitError or exit code 137 with a hint", res, err, s.stdout)
	}
}

func TestEarlierAttemptsAreRemoved(t *testing.T) {
	t.Parallel()
	c := testdocker.Client(t)
	old := startLabelled(t, c, "dead-worker", "retried-task")
	e := newExecutor(t, "retry-worker")
	_, err := e.Run(t.Context(), executors.Task{ID: "retried-task", TenantID: "t", Attempt: 2, Args: shArgs("true")}, &sink{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerInspect(t.Context(), old, client.ContainerInspectOptions{}); err == nil {
		t.Errorf("the container of attempt 1 still exists after attempt 2 ran")
	}
}

// startLabelled starts a container that sleeps, labelled as attempt 1 of
// task on worker, and removes it when t ends.
func startLabelled(t *testing.T, c *client.Client, worker, task string) string {
	t.Helper()
	created, err := c.ContainerCreate(t.Context(), client.ContainerCreateOptions{
		Config: &container.Config{Image: testdocker.Image, Cmd: []string{"sleep", "600"},
			Labels: map[string]string{docker.LabelTask: task, docker.LabelAttempt: "1", docker.LabelTenant: "t", docker.LabelWorker: worker}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerStart(t.Context(), created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.WithoutCancel(t.Context()), created.ID, client.ContainerRemoveOptions{Force: true})
	})
	return created.ID
}

func TestReap(t *testing.T) {
	t.Parallel()
	c := testdocker.Client(t)
	start := func(worker, task string) string { return startLabelled(t, c, worker, task) }
	// Reap sees every task container of the engine, other tests' too (they
	// run in parallel, and TestEarlierAttemptsAreRemoved starts a
	// "dead-worker" one): this test's workers have names of their own.
	reaper, dead := "reaper-"+uuid.NewString(), "reaped-"+uuid.NewString()
	mine := start(reaper, "task-of-mine")
	deadOther := start(dead, "task-moved-on")
	liveOther := start("live-"+uuid.NewString(), "task-running")
	e := newExecutor(t, reaper)
	asked := map[string]executors.Attempt{}
	n, err := e.Reap(t.Context(), func(_ context.Context, a executors.Attempt) (bool, error) {
		asked[a.TaskID] = a
		return a.WorkerID != dead, nil // the other tests' containers run
	})
	if err != nil || n != 2 {
		t.Fatalf("Reap = %d, %v; want 2 removed", n, err)
	}
	if _, ok := asked["task-of-mine"]; ok {
		t.Errorf("Reap asked about its own worker's container")
	}
	if a := asked["task-moved-on"]; a.Attempt != 1 || a.TenantID != "t" || a.WorkerID != dead {
		t.Errorf("Reap asked about %+v", a)
	}
	for id, want := range map[string]bool{mine: false, deadOther: false, liveOther: true} {
		_, err := c.ContainerInspect(t.Context(), id, client.ContainerInspectOptions{})
		if exists := err == nil; exists != want {
			t.Errorf("container %s exists %v, want %v (%v)", id, exists, want, err)
		}
	}
}

// wantStartError fails t unless err is a *executors.StartError whose
// message holds want.
func wantStartError(t *testing.T, err error, want string) {
	t.Helper()
	var se *executors.StartError
	if !errors.As(err, &se) || !strings.Contains(se.Error(), want) {
		t.Errorf("err = %v; want a StartError saying %q", err, want)
	}
}
