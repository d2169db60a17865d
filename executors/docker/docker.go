package docker

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/internal/utf8cut"
)

// Labels every container of a task carries.
const (
	LabelTask    = "axontask.task"
	LabelAttempt = "axontask.attempt"
	LabelTenant  = "axontask.tenant"
	LabelWorker  = "axontask.worker"
)

// Bounds of the engine calls that clean up; they run after the task's
// context is done.
const (
	cleanupTimeout = 30 * time.Second
	drainTimeout   = 5 * time.Second
)

// Executor runs docker tasks on one engine. It holds no per-task state:
// one Executor may run any number of tasks concurrently. Create it with
// New; Close releases its connections.
type Executor struct {
	cfg Config
	cli *client.Client
}

var _ executors.Executor = (*Executor)(nil)

// New returns an Executor for cfg, with cfg's zero fields set to their
// defaults, or an error naming the fields that cannot work. It does not
// reach the engine (see Ping): a worker starts while its engine is down,
// and docker tasks fail with the reason until it is up.
func New(cfg Config) (*Executor, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("docker executor: %w", err)
	}
	opts := []client.Opt{client.FromEnv}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker executor: engine address: %w; set DOCKER_HOST like unix:///var/run/docker.sock", err)
	}
	return &Executor{cfg: cfg, cli: cli}, nil
}

// Close closes the executor's connections to the engine.
func (e *Executor) Close() error { return e.cli.Close() }

// Host returns the engine's address.
func (e *Executor) Host() string { return e.cli.DaemonHost() }

// Ping reports whether the engine answers, with an error that says what
// to fix when it does not.
func (e *Executor) Ping(ctx context.Context) error {
	if _, err := e.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return e.engineError(err)
	}
	return nil
}

// engineError wraps err, an engine call's, with what to do when the engine
// cannot be reached.
func (e *Executor) engineError(err error) error {
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("the Docker engine at %s does not answer (%w); start it, or point the worker at one with DOCKER_HOST", e.cli.DaemonHost(), err)
	}
	return err
}

// Run runs task, whose Args must be a valid *domain.DockerArgs, in a new
// container, and returns once the container has been removed. Sink calls
// are serialized, and none happen after Run returns.
//
// The container's exit code is the Result's, with a nil error, whatever
// it is. When ctx is done first, the container is stopped (SIGTERM, then
// SIGKILL after the grace period) and Run returns an error wrapping
// context.Cause(ctx). A container the kernel killed for memory gives a
// *executors.LimitError. What keeps the task from starting — bad args, a
// network or resources its plan or the operator does not allow, a secret
// that does not exist, an engine that does not answer, an image that is
// missing or cannot be pulled, a command the image lacks — is a
// *executors.StartError that says what to fix. Containers of the task's
// earlier attempts, left by a worker that died, are removed first.
func (e *Executor) Run(ctx context.Context, task executors.Task, sink executors.Sink) (executors.Result, error) {
	spec, err := e.prepare(task)
	if err != nil {
		return executors.Result{}, &executors.StartError{Err: err}
	}
	if ctx.Err() != nil {
		return executors.Result{}, fmt.Errorf("docker task canceled before it started: %w", context.Cause(ctx))
	}
	img, err := e.ensureImage(ctx, spec.args, spec.registryAuth, sink)
	if err != nil {
		return executors.Result{}, err
	}
	cleanupCtx := context.WithoutCancel(ctx)
	e.removeEarlierAttempts(ctx, task)
	id, err := e.create(ctx, task, spec, img)
	if err != nil {
		return executors.Result{}, err
	}
	defer e.remove(cleanupCtx, task.ID, id)
	return e.runContainer(ctx, id, task, sink)
}

// spec is what Run makes of a task's args before it reaches the engine.
type spec struct {
	args         *domain.DockerArgs
	env          []string
	workdir      string
	registryAuth string // base64 JSON for the engine, "" for none
	resources    container.Resources
	tmpfs        map[string]string
}

// prepare checks a task's args against the operator's and the plan's
// bounds and resolves its secrets.
func (e *Executor) prepare(task executors.Task) (*spec, error) {
	args, ok := task.Args.(*domain.DockerArgs)
	if !ok || args == nil {
		return nil, fmt.Errorf("docker executor got args of type %T; want a non-nil *domain.DockerArgs from domain.ParseArgs", task.Args)
	}
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("invalid docker args: %w", err)
	}
	if err := e.checkNetwork(args.Network, task.Limits); err != nil {
		return nil, err
	}
	res, err := e.resources(args, task.Limits)
	if err != nil {
		return nil, err
	}
	env, err := resolveEnv(args.Env, task.Secrets)
	if err != nil {
		return nil, err
	}
	auth, err := encodeAuth(args, task.Secrets)
	if err != nil {
		return nil, err
	}
	workdir, _ := domain.DockerWorkdir(args.Workdir) // validated above
	return &spec{args: args, env: env, workdir: workdir, registryAuth: auth, resources: res, tmpfs: e.tmpfs(task.Limits)}, nil
}

// checkNetwork refuses a network the operator has not allowed, or any
// network for a plan without egress.
func (e *Executor) checkNetwork(network string, limits domain.TaskLimits) error {
	if network == domain.DockerNetworkNone {
		return nil
	}
	if !slices.Contains(e.cfg.Networks, network) {
		allowed := append([]string{domain.DockerNetworkNone}, e.cfg.Networks...)
		return fmt.Errorf("args.network %q is not allowed on this worker; use one of %s (the operator lists more with DOCKER_NETWORKS)", network, strings.Join(allowed, ", "))
	}
	if !limits.Egress {
		return fmt.Errorf("args.network %q reaches beyond the container, and the tenant's plan allows no network access; leave args.network out, or move to a plan with egress", network)
	}
	return nil
}

// resources are the container's bounds: the plan's, or the lower ones the
// args ask for; asking for more than the plan is an error.
func (e *Executor) resources(args *domain.DockerArgs, l domain.TaskLimits) (container.Resources, error) {
	memory, err := lower("args.memory_mb", args.MemoryMB<<20, l.MemoryBytes, func(v int64) string { return strconv.FormatInt(v>>20, 10) + " MiB" })
	if err != nil {
		return container.Resources{}, err
	}
	cpu, err := lower("args.cpu_milli", int64(args.CPUMilli), int64(l.CPUMilli), func(v int64) string { return strconv.FormatInt(v, 10) + " thousandths of a CPU" })
	if err != nil {
		return container.Resources{}, err
	}
	pids, err := lower("args.pids", int64(args.Pids), int64(l.Pids), func(v int64) string { return strconv.FormatInt(v, 10) + " processes" })
	if err != nil {
		return container.Resources{}, err
	}
	r := container.Resources{Memory: memory, NanoCPUs: cpu * 1_000_000}
	if memory > 0 {
		r.MemorySwap = memory // no swap beyond the memory bound
	}
	if pids > 0 {
		r.PidsLimit = &pids
	}
	nofile := e.cfg.OpenFiles
	if l.OpenFiles > 0 {
		nofile = int64(l.OpenFiles)
	}
	r.Ulimits = []*container.Ulimit{
		{Name: "nofile", Soft: nofile, Hard: nofile},
		{Name: "nproc", Soft: e.cfg.Processes, Hard: e.cfg.Processes},
	}
	if l.FileSizeBytes > 0 {
		r.Ulimits = append(r.Ulimits, &container.Ulimit{Name: "fsize", Soft: l.FileSizeBytes, Hard: l.FileSizeBytes})
	}
	return r, nil
}

// lower returns asked when it is set and within plan (0: no bound), plan
// otherwise; asked above plan is an error naming field.
func lower(field string, asked, plan int64, unit func(int64) string) (int64, error) {
	switch {
	case asked == 0:
		return plan, nil
	case plan > 0 && asked > plan:
		return 0, fmt.Errorf("%s asks for %s, above the %s the tenant's plan allows; ask for at most that, or leave it out", field, unit(asked), unit(plan))
	}
	return asked, nil
}

// tmpfs returns the container's writable directories, /work and /tmp,
// sized together to the plan's work directory bound: /tmp gets a quarter.
func (e *Executor) tmpfs(l domain.TaskLimits) map[string]string {
	total := l.WorkDirBytes
	if total <= 0 {
		total = e.cfg.WorkDirBytes
	}
	tmp := total / 4
	opts := func(size int64) string {
		return "rw,exec,nosuid,nodev,mode=1777,size=" + strconv.FormatInt(max(size, 4096), 10)
	}
	return map[string]string{domain.DockerWorkDir: opts(total - tmp), "/tmp": opts(tmp)}
}

// resolveEnv returns env as NAME=value lines, sorted, with its secret
// references resolved.
func resolveEnv(env domain.SecretEnv, secrets map[string]string) ([]string, error) {
	resolved, err := env.Resolve(secrets)
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(resolved))
	for k, v := range resolved {
		lines = append(lines, k+"="+v)
	}
	slices.Sort(lines)
	return lines, nil
}

// isRoot reports whether user, a container USER ("name", "uid",
// "uid:gid"), is root or leaves the user to the engine's default (root).
func isRoot(user string) bool {
	name, _, _ := strings.Cut(user, ":")
	return name == "" || name == "root" || name == "0"
}

// create creates the task's container from img.
func (e *Executor) create(ctx context.Context, task executors.Task, s *spec, img imageConfig) (string, error) {
	user := img.User
	if isRoot(user) {
		user = e.cfg.User
	}
	workdir := s.workdir
	if workdir == "" && img.WorkingDir == "" {
		workdir = domain.DockerWorkDir
	}
	cfg := &container.Config{
		Image: s.args.Image, Cmd: s.args.Command, Env: s.env, WorkingDir: workdir, User: user,
		AttachStdout: true, AttachStderr: true,
		Labels: map[string]string{
			LabelTask: task.ID, LabelAttempt: strconv.Itoa(task.Attempt),
			LabelTenant: task.TenantID, LabelWorker: e.cfg.WorkerID,
		},
	}
	host := &container.HostConfig{
		NetworkMode:    container.NetworkMode(s.args.Network),
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		ReadonlyRootfs: true,
		Tmpfs:          s.tmpfs,
		Resources:      s.resources,
		LogConfig:      container.LogConfig{Type: "none"},
	}
	// The create is not canceled with the task: an engine may create the
	// container after the client gave up, and nobody would remove it. A
	// task canceled meanwhile stops at the attach that follows.
	createCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	created, err := e.cli.ContainerCreate(createCtx, client.ContainerCreateOptions{Config: cfg, HostConfig: host})
	switch {
	case err == nil:
		return created.ID, nil
	case ctx.Err() != nil:
		return "", fmt.Errorf("docker task canceled while its container was created: %w", context.Cause(ctx))
	case client.IsErrConnectionFailed(err):
		return "", &executors.StartError{Err: e.engineError(err)}
	case cerrdefs.IsNotFound(err):
		return "", &executors.StartError{Err: fmt.Errorf("create the container: %w; check args.network names a network of the engine", err)}
	}
	return "", &executors.StartError{Err: fmt.Errorf("create the container: %w", err)}
}

// runContainer attaches to container id, starts it, streams its output to
// sink and waits for it to exit, or stops it when ctx is done.
func (e *Executor) runContainer(ctx context.Context, id string, task executors.Task, sink executors.Sink) (executors.Result, error) {
	att, err := e.cli.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		if ctx.Err() != nil {
			return executors.Result{}, fmt.Errorf("docker task canceled before it started: %w", context.Cause(ctx))
		}
		return executors.Result{}, &executors.StartError{Err: e.attachError(ctx, id, err)}
	}
	defer att.Close()
	streamed := make(chan struct{})
	go func() {
		defer close(streamed)
		locked := &lockedSink{sink: sink}
		stdout := &streamWriter{sink: locked, stream: domain.Stdout}
		stderr := &streamWriter{sink: locked, stream: domain.Stderr}
		// The copy ends when the container's streams close, or when the
		// connection does (Close after the drain timeout).
		_, _ = stdcopy.StdCopy(stdout, stderr, att.Reader)
		stdout.flush()
		stderr.flush()
	}()
	drain := func() {
		t := time.NewTimer(drainTimeout)
		defer t.Stop()
		select {
		case <-streamed:
		case <-t.C:
			e.cfg.Logger.Warn("docker task: its output stream did not close after the container exited; the rest of its output is dropped", "task_id", task.ID, "container", id)
			att.Close()
			<-streamed
		}
	}
	if _, err := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		att.Close()
		<-streamed
		if ctx.Err() != nil {
			return executors.Result{}, fmt.Errorf("docker task canceled before it started: %w", context.Cause(ctx))
		}
		return executors.Result{}, &executors.StartError{Err: startError(e.engineError(err))}
	}
	code, waitErr := e.wait(ctx, id)
	drain()
	if waitErr != nil {
		return executors.Result{}, waitErr
	}
	return e.result(context.WithoutCancel(ctx), id, code, task.Limits)
}

// startError says what to fix of a container that would not start.
func startError(err error) error {
	return fmt.Errorf("start the container: %w; check that args.command names a program of the image, and that the image runs as a user that is not root", err)
}

// attachError explains why attaching to container id failed. podman
// creates the container's process when it is attached to, and answers a
// bare 409 when that fails, which the client cannot read: starting the
// container gives the reason.
func (e *Executor) attachError(ctx context.Context, id string, err error) error {
	if client.IsErrConnectionFailed(err) {
		return e.engineError(err)
	}
	if _, startErr := e.cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); startErr != nil {
		return startError(startErr)
	}
	return fmt.Errorf("attach to the container: %w", err)
}

// wait waits for container id to exit and returns its exit code; when ctx
// is done first, it stops the container (SIGTERM, SIGKILL after the grace
// period) and returns an error wrapping context.Cause(ctx).
func (e *Executor) wait(ctx context.Context, id string) (int64, error) {
	waitCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	w := e.cli.ContainerWait(waitCtx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case res := <-w.Result:
		return res.StatusCode, nil
	case err := <-w.Error:
		return 0, fmt.Errorf("wait for the docker task's container: %w", e.engineError(err))
	case <-ctx.Done():
	}
	cleanup, cancelCleanup := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.GracePeriod+cleanupTimeout)
	defer cancelCleanup()
	grace := int(math.Ceil(e.cfg.GracePeriod.Seconds()))
	if _, err := e.cli.ContainerStop(cleanup, id, client.ContainerStopOptions{Timeout: &grace}); err != nil {
		_, _ = e.cli.ContainerKill(cleanup, id, client.ContainerKillOptions{Signal: "KILL"})
	}
	select {
	case <-w.Result:
	case err := <-w.Error:
		e.cfg.Logger.Debug("docker task: waiting for its stopped container failed; it is removed anyway", "container", id, "err", err)
	case <-cleanup.Done():
	}
	return 0, fmt.Errorf("docker task canceled: %w", context.Cause(ctx))
}

// result reads how container id ended: out of memory, or its exit code.
func (e *Executor) result(ctx context.Context, id string, code int64, l domain.TaskLimits) (executors.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	info, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		info = client.ContainerInspectResult{}
	}
	if info.Container.State != nil && info.Container.State.OOMKilled {
		return executors.Result{}, &executors.LimitError{Reason: fmt.Sprintf("out of memory: the task used all of its %d MiB of memory", memoryOf(info.Container, l)>>20)}
	}
	summary := "exit code " + strconv.FormatInt(code, 10)
	if mem := memoryOf(info.Container, l); code == 128+9 && mem > 0 {
		// Some engines (podman on cgroups v1) do not report the kernel's
		// OOM kill; SIGKILL is what it looks like.
		summary += fmt.Sprintf(" (SIGKILL: what the kernel sends a container that runs out of its %d MiB of memory)", mem>>20)
	}
	return executors.Result{ExitCode: int(code), Summary: summary}, nil
}

// memoryOf is the memory bound container c ran with.
func memoryOf(c container.InspectResponse, l domain.TaskLimits) int64 {
	if c.HostConfig != nil && c.HostConfig.Memory > 0 {
		return c.HostConfig.Memory
	}
	return l.MemoryBytes
}

// removeEarlierAttempts removes the containers of the task's earlier
// attempts, on any worker: this attempt was claimed, so they no longer run
// (their worker died, and the watchdog took the task back), and they must
// not go on beside this one. Errors are logged: a container that stays is
// removed by the next Reap.
func (e *Executor) removeEarlierAttempts(ctx context.Context, task executors.Task) {
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelTask+"="+task.ID)})
	if err != nil {
		return // the create that follows says what is wrong with the engine
	}
	for _, c := range list.Items {
		if attempt, _ := strconv.Atoi(c.Labels[LabelAttempt]); attempt >= task.Attempt {
			continue
		}
		e.remove(ctx, task.ID, c.ID)
		e.cfg.Logger.Info("docker: removed the container of an earlier attempt of the task", "task_id", task.ID, "attempt", c.Labels[LabelAttempt], "worker_id", c.Labels[LabelWorker], "container", c.ID)
	}
}

// remove removes container id and whatever runs in it.
func (e *Executor) remove(ctx context.Context, taskID, id string) {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	if _, err := e.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
		e.cfg.Logger.Warn("docker task: cannot remove its container; the worker's next start removes it", "task_id", taskID, "container", id, "err", err)
	}
}

// lockedSink serializes the calls of the two streams' writers.
type lockedSink struct {
	mu   sync.Mutex
	sink executors.Sink
}

// output reports data as output of stream.
func (l *lockedSink) output(stream domain.OutputStream, data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sink.Output(stream, data)
}

// streamWriter forwards what it is given as output of one stream, copied
// (the caller reuses its buffer), holding back a UTF-8 sequence cut at
// the end of a frame until the next frame completes it.
type streamWriter struct {
	sink    *lockedSink
	stream  domain.OutputStream
	pending []byte
}

// Write forwards p, but for a trailing incomplete UTF-8 sequence.
func (w *streamWriter) Write(p []byte) (int, error) {
	buf := append(w.pending, p...)
	n := utf8cut.Complete(buf)
	// buf is never p, and its array is written no more: pending gets a
	// copy of its rest. So the sink may keep buf[:n] as it is.
	if n > 0 {
		w.sink.output(w.stream, buf[:n])
	}
	w.pending = slices.Clone(buf[n:])
	return len(p), nil
}

// flush forwards what is held back, once the stream has ended.
func (w *streamWriter) flush() {
	if len(w.pending) > 0 {
		w.sink.output(w.stream, w.pending)
		w.pending = nil
	}
}
