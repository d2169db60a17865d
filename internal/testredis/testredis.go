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
	"sync"
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
	s, err := NewServer()
	if err != nil {
		return "", nil, err
	}
	if err := s.Start(context.Background()); err != nil {
		return "", nil, err
	}
	return s.url, s.Kill, nil
}

// Server is a throwaway redis-server owned by this process. It keeps
// nothing on disk, so after Kill and Start it answers on the same port,
// empty, as a Redis configured as a cache comes back from a crash. Its
// methods are safe for concurrent use.
type Server struct {
	url  string
	args []string // redis-server and its arguments

	mu   sync.Mutex
	proc *testproc.Process // nil while killed
}

// StartOwned starts a throwaway redis-server that only tb uses, so that
// tb may kill and restart it (the shared server behind URL must never be).
// It is killed when tb ends.
func StartOwned(tb testing.TB) *Server {
	tb.Helper()
	s, err := NewServer()
	if err == nil {
		err = s.Start(context.Background())
	}
	if err != nil {
		tb.Fatalf("start a throwaway Redis: %v", err)
	}
	tb.Cleanup(s.Kill)
	return s
}

// NewServer returns a throwaway server on a free port, not started yet:
// Start starts it, Kill stops it. For programs that are not tests (the
// benchmarks); a test calls StartOwned.
func NewServer() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("no redis-server on PATH")
	}
	port, err := testproc.FreePort()
	if err != nil {
		return nil, err
	}
	return &Server{
		url: fmt.Sprintf("redis://127.0.0.1:%d/0", port),
		args: []string{bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no"},
	}, nil
}

// URL returns the server's URL.
func (s *Server) URL() string { return s.url }

// Start starts redis-server, empty, on the server's port and waits until
// it answers (at most 20 s). It fails if the server runs.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("redis-server already runs")
	}
	proc, err := testproc.StartProcess(exec.CommandContext(context.Background(), s.args[0], s.args[1:]...))
	if err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	opts, _ := redis.ParseURL(s.url)
	c := redis.NewClient(opts)
	defer func() { _ = c.Close() }()
	err = proc.WaitReady(ctx, 20*time.Second, 20*time.Millisecond, func(ctx context.Context) error {
		return c.Ping(ctx).Err()
	})
	if err != nil {
		proc.Stop(syscall.SIGKILL, 0)
		return fmt.Errorf("redis-server did not answer: %w", err)
	}
	s.proc = proc
	return nil
}

// Kill kills the server (SIGKILL) and waits until it has exited; what it
// held is lost. Killing a killed server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.proc.Stop(syscall.SIGKILL, 0)
		s.proc = nil
	}
}
