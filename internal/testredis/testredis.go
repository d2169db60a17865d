// Package testredis gives tests a real Redis: the server named by
// AXONTASK_TEST_REDIS_URL, or else a throwaway redis-server started from
// the machine's binary (no persistence, killed with the test binary). Tests
// isolate themselves with a key prefix of their own (Prefix).
package testredis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// EnvURL names the variable that points tests at an existing Redis.
const EnvURL = "AXONTASK_TEST_REDIS_URL"

var (
	mu     sync.Mutex
	server *exec.Cmd
	url    string
)

// Main runs a package's tests and stops the throwaway server afterwards.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the throwaway server, if this process started one.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if server != nil {
		_ = server.Process.Kill()
		_ = server.Wait()
		server = nil
	}
}

// URL returns a Redis URL, starting a throwaway server on first use when
// EnvURL is not set.
func URL(tb testing.TB) string {
	tb.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	mu.Lock()
	defer mu.Unlock()
	if url != "" {
		return url
	}
	u, cmd, err := startServer()
	if err != nil {
		tb.Fatalf("start a throwaway Redis: %v\nInstall Redis (Debian: apt-get install -y redis-server) or set %s.", err, EnvURL)
	}
	url, server = u, cmd
	return url
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

// Start starts a throwaway redis-server for a program that is not a test
// (the benchmarks) and returns its URL and a function that stops it.
func Start() (string, func(), error) {
	u, cmd, err := startServer()
	if err != nil {
		return "", nil, err
	}
	return u, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

func startServer() (string, *exec.Cmd, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("no redis-server on PATH")
	}
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.CommandContext(context.Background(), bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server: %w", err)
	}
	u := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opts, _ := redis.ParseURL(u)
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return u, cmd, nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return "", nil, fmt.Errorf("redis-server did not answer within 20 s: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
