package docker

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/axontask/axontask/domain"
)

// Defaults for Config.
const (
	DefaultGracePeriod  = 10 * time.Second
	DefaultUser         = "65534:65534"
	DefaultWorkDirBytes = 1 << 30
	DefaultOpenFiles    = 20000
	DefaultProcesses    = 32768
)

// Config configures an Executor. The zero value is usable: New fills in
// the defaults.
type Config struct {
	// Host is the engine's address, as in DOCKER_HOST
	// (unix:///var/run/docker.sock, tcp://host:2376). Empty: the
	// environment's DOCKER_HOST (and DOCKER_CERT_PATH, DOCKER_TLS_VERIFY),
	// else the engine's default socket.
	Host string
	// WorkerID names the worker in every container's labels; Reap removes
	// the containers of this worker id. Required.
	WorkerID string
	// GracePeriod is how long a container has between SIGTERM and SIGKILL
	// when its task is canceled or times out (default 10 s; whole seconds,
	// as the Engine API takes it).
	GracePeriod time.Duration
	// Networks are the engine networks a task's args.network may name
	// besides "none", which is always allowed; a task on one also needs
	// its plan to allow egress. Empty (the default): "none" only. Never
	// list "host" for a worker that runs other people's tasks: the
	// container would share the worker's own network stack.
	Networks []string
	// User runs the containers of images whose USER is empty or root
	// (default 65534:65534, nobody).
	User string
	// WorkDirBytes bounds /work and /tmp together for tasks whose plan sets
	// no work directory limit (default 1 GiB). Both are tmpfs: what a task
	// keeps there also counts against its memory.
	WorkDirBytes int64
	// OpenFiles is the open files limit (RLIMIT_NOFILE) of the containers
	// of tasks whose plan sets none (default 20000), and Processes their
	// RLIMIT_NPROC (default 32768; it counts the processes of the
	// container's user on the whole host, beside the pids bound of each
	// container). Every container gets both explicitly: an engine that
	// cannot raise its own limits (podman here) fills in a container's
	// unset ones with a maximum it may not set, and the container fails to
	// start. Keep them within the engine's own limits.
	OpenFiles int64
	Processes int64
	// Logger receives what the executor cannot report to a task: a
	// container it could not remove (default slog.Default()).
	Logger *slog.Logger
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.GracePeriod == 0 {
		c.GracePeriod = DefaultGracePeriod
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.WorkDirBytes == 0 {
		c.WorkDirBytes = DefaultWorkDirBytes
	}
	if c.OpenFiles == 0 {
		c.OpenFiles = DefaultOpenFiles
	}
	if c.Processes == 0 {
		c.Processes = DefaultProcesses
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Networks = slices.Clone(c.Networks)
	return c
}

// validate reports settings that cannot work, naming the field.
func (c Config) validate() error {
	var errs []error
	if err := domain.ValidateIdentifier("worker_id", c.WorkerID); err != nil {
		errs = append(errs, fmt.Errorf("field WorkerID: %w", err))
	}
	if c.GracePeriod < time.Second {
		errs = append(errs, fmt.Errorf("field GracePeriod is %s; the Engine API counts it in whole seconds, at least 1 s", c.GracePeriod))
	}
	if isRoot(c.User) {
		errs = append(errs, fmt.Errorf("field User is %q; containers of tasks never run as root", c.User))
	}
	if c.WorkDirBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("field WorkDirBytes is %d; give tasks at least 1 MiB", c.WorkDirBytes))
	}
	if c.OpenFiles < 64 || c.Processes < 1 {
		errs = append(errs, fmt.Errorf("fields OpenFiles %d and Processes %d: give containers at least 64 open files and 1 process", c.OpenFiles, c.Processes))
	}
	for _, n := range c.Networks {
		if n == "" || n == domain.DockerNetworkNone {
			errs = append(errs, fmt.Errorf("networks: %q: list the networks besides none, which is always allowed", n))
		}
	}
	return errors.Join(errs...)
}
