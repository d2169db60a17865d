// Package secretscan lets tests prove that logs hold no secret: a Writer
// (or a Logger on it) collects what a test's code logs, and when the test
// ends every line is searched for the shapes of AxonTask's secrets (API
// keys, refresh tokens, JWTs, Authorization headers) and for the values
// the test registered (passwords).
package secretscan

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// shapes match secrets by their form, whatever their value.
var shapes = []*regexp.Regexp{
	regexp.MustCompile(`axt_[a-z2-7]{12}_[a-z2-7]{8,}`),           // an API key with (part of) its secret
	regexp.MustCompile(`axr_[0-9a-f]{32}\.[A-Za-z0-9_-]{8,}`),     // a refresh token with (part of) its secret
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]*`), // a JWT
	regexp.MustCompile(`(?i)authorization:\s*bearer\s+\S`),        // an Authorization header
	regexp.MustCompile(`\$argon2id\$`),                            // a password hash
}

// Scanner collects log output; it is safe for concurrent writes.
type Scanner struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	values []string
}

// New returns a Scanner whose lines are checked when t ends; values are
// secrets to look for as they are (passwords the test uses).
func New(t testing.TB, values ...string) *Scanner {
	s := &Scanner{values: values}
	t.Cleanup(func() { s.check(t) })
	return s
}

// Write collects p.
func (s *Scanner) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// Logger returns a logger, at debug level, writing to s.
func (s *Scanner) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(s, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (s *Scanner) check(t testing.TB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, line := range strings.Split(s.buf.String(), "\n") {
		for _, re := range shapes {
			if re.MatchString(line) {
				t.Errorf("log line %d holds a secret (%s): %.40s…", i+1, re, line)
			}
		}
		for _, v := range s.values {
			if v != "" && strings.Contains(line, v) {
				t.Errorf("log line %d holds a secret the test registered: %.40s…", i+1, line)
			}
		}
	}
}
