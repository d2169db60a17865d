// Package testproc holds what the helpers that start throwaway servers
// for tests (testpg, testredis) share: the servers a test binary starts
// once and stops at its end, a free loopback port, and the server
// process itself (Process: wait until it answers, stop it).
package testproc

import (
	"context"
	"net"
	"os"
	"sync"
	"testing"
)

// Servers are the throwaway servers of one kind that a test binary
// starts, at most one per key, on first use, and stops at its end. It is
// safe for concurrent use.
type Servers[K comparable] struct {
	// Start starts the server of a key and returns its URL and a function
	// that stops it; required.
	Start func(K) (url string, stop func(), err error)

	mu      sync.Mutex
	running map[K]server
}

type server struct {
	url  string
	stop func()
}

// URL returns the URL of key's server, starting it first unless it runs;
// callers wait for one another's start.
func (s *Servers[K]) URL(key K) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if srv, ok := s.running[key]; ok {
		return srv.url, nil
	}
	url, stop, err := s.Start(key)
	if err != nil {
		return "", err
	}
	if s.running == nil {
		s.running = map[K]server{}
	}
	s.running[key] = server{url, stop}
	return url, nil
}

// StopAll stops every server started.
func (s *Servers[K]) StopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, srv := range s.running {
		srv.stop()
		delete(s.running, key)
	}
}

// Main runs a package's tests, stops every server started, and exits
// with the tests' code. Call it from TestMain.
func (s *Servers[K]) Main(m *testing.M) {
	code := m.Run()
	s.StopAll()
	os.Exit(code)
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
