package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/axontask/axontask/executors/docker"
)

// dockerFlags say which engine runs docker tasks and what they may reach.
type dockerFlags struct {
	host     string
	networks string
}

// register adds the docker executor's flags to fs, with defaults from the
// environment.
func (f *dockerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.host, "docker-host", os.Getenv("DOCKER_HOST"), "the Docker Engine API that runs docker tasks, like unix:///var/run/docker.sock or unix:///run/podman/podman.sock (DOCKER_HOST; default: the engine's default socket)")
	fs.StringVar(&f.networks, "docker-networks", os.Getenv("DOCKER_NETWORKS"), "engine networks docker tasks may join besides none, comma-separated, for tenants whose plan allows egress (DOCKER_NETWORKS; default: none only; never host on a shared worker)")
}

// dockerRunner is the executor of docker tasks a process runs, what it
// says about the engine, and how to release it.
type dockerRunner struct {
	*docker.Executor
	// State is one line on the engine, for dev's banner.
	State string
}

// dockerExecutor returns the docker executor of worker workerID. An engine
// that does not answer does not keep the process from starting: docker
// tasks fail with the reason until it answers, and the log says so now.
func (f *dockerFlags) dockerExecutor(ctx context.Context, workerID string, logger *slog.Logger) (dockerRunner, error) {
	var networks []string
	for n := range strings.SplitSeq(f.networks, ",") {
		if n = strings.TrimSpace(n); n != "" {
			networks = append(networks, n)
		}
	}
	e, err := docker.New(docker.Config{Host: f.host, WorkerID: workerID, Networks: networks, Logger: logger})
	if err != nil {
		return dockerRunner{}, fmt.Errorf("%w (-docker-host, -docker-networks)", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.Ping(pingCtx); err != nil {
		logger.Warn("docker tasks fail until the engine answers", "err", err)
		return dockerRunner{Executor: e, State: "UNAVAILABLE at " + e.Host() + ": docker tasks fail until it answers (-docker-host, DOCKER_HOST)"}, nil
	}
	logger.Info("docker engine", "host", e.Host(), "networks", append([]string{"none"}, networks...))
	return dockerRunner{Executor: e, State: e.Host()}, nil
}
