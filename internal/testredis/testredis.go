// Package testredis gives tests a real Redis: the server named by
// AXONTASK_TEST_REDIS_URL, or else a throwaway redis-server started from
// the machine's binary (no persistence, killed with the test binary). Tests
// isolate themselves with a key prefix of their own (Prefix).
package testredis

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/axontask/axontask/internal/testproc"
)

// EnvURL names the variable that points tests at an existing Redis.
const EnvURL = "AXONTASK_TEST_REDIS_URL"

// servers holds this process's throwaway server, under the one key.
var servers = testproc.Servers[struct{}]{Start: func(struct{}) (string, func(), error) { return Start() }}

// Main runs a package's tests and stops the throwaway server afterwards.
func Main(m *testing.M) { servers.Main(m) }

// Stop stops the throwaway server, if this process started one.
func Stop() { servers.StopAll() }

// URL returns a Redis URL, starting a throwaway server on first use when
// EnvURL is not set.
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	u, err := servers.URL(struct{}{})
	if err != nil {
		tb.Fatalf("start a throwaway Redis: %v\nInstall Redis (Debian: apt-get install -y redis-server) or set %s.", err, EnvURL)
	}
	return u
}

// Prefix returns a key prefix unique to this test, for stream names.
func Prefix(tb testing.TB) string {
	tb.Helper()
	return "test-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] + ":"
}

// Client returns a client of the test Redis, closed when the test ends.
func Client(tb testing.TB) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL(tb))
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvURL, err)
	}
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// Start starts a throwaway redis-server and returns its URL and a
// function that stops it. URL starts one for tests; a program that is not
// a test (the benchmarks) calls Start.
func Start() (string, func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("no redis-server on PATH")
	}
	port, err := testproc.FreePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(context.Background(), bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server: %w", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	u := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := redis.ParseURL(u)
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	err = testproc.WaitReady(20*time.Second, 20*time.Millisecond, func(ctx context.Context) error {
		return c.Ping(ctx).Err()
	})
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("redis-server did not answer within 20 s: %w", err)
	}
	return u, stop, nil
}
