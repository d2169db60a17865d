package main

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

func TestTaskExitCode(t *testing.T) {
	t.Parallel()
	event := func(typ domain.EventType, payload string) domain.Event {
		e := domain.Event{Type: typ}
		if payload != "" {
			e.Payload = []byte(payload)
		}
		return e
	}
	tests := []struct {
		e    domain.Event
		want int
	}{
		{event(domain.TaskSucceededType, `{"exit_code":0}`), 0},
		{event(domain.TaskFailedType, `{"error":"exited","exit_code":3}`), 3},
		{event(domain.TaskFailedType, `{"error":"killed","exit_code":137}`), 137},
		{event(domain.TaskFailedType, `{"error":"no such command"}`), exitTaskFailed},
		{event(domain.TaskFailedType, `{"error":"odd","exit_code":0}`), exitTaskFailed},
		{event(domain.TaskFailedType, `{"error":"odd","exit_code":300}`), exitTaskFailed},
		{event(domain.TaskFailedType, ""), exitTaskFailed}, // pruned by retention
		{event(domain.TaskCanceledType, `{"reason":"canceled on request"}`), exitTaskCanceled},
		{event(domain.TaskTimedOutType, `{"timeout_s":60}`), exitTaskTimedOut},
		{event(domain.TaskSucceededType, ""), 0},
	}
	for _, tc := range tests {
		if got := taskExitCode(tc.e); got != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.e.Type, tc.e.Payload, got, tc.want)
		}
	}
}

func TestDefaultTaskName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 150)
	for _, tc := range []struct {
		adapter domain.Adapter
		argv    []string
		want    string
	}{
		{domain.AdapterShell, []string{"make", "test"}, "make test"},
		{domain.AdapterShell, []string{"sh", "-c", "a\nb\tc"}, "sh -c a b c"},
		{domain.AdapterMock, nil, "mock"},
		{domain.AdapterShell, []string{"\n"}, "shell"},
		{domain.AdapterShell, []string{long}, strings.Repeat("é", 98) + "…"},
	} {
		got := defaultTaskName(tc.adapter, tc.argv)
		if got != tc.want || len(got) > maxTaskName {
			t.Errorf("%q: %q (%d bytes), want %q", tc.argv, got, len(got), tc.want)
		}
	}
}

// Flags may follow the positional arguments; everything after -- is
// positional.
func TestCommandLineParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args        []string
		wantPos     []string
		wantFollow  bool
		wantSince   int64
		wantErrCode int
	}{
		{[]string{"ID", "-f", "-since", "3"}, []string{"ID"}, true, 3, 0},
		{[]string{"-f", "ID"}, []string{"ID"}, true, 0, 0},
		{[]string{"--since=2", "ID", "--f"}, []string{"ID"}, true, 2, 0},
		{[]string{"--", "-f"}, []string{"-f"}, false, 0, 0},
		{[]string{"ID", "--", "-f"}, []string{"ID", "-f"}, false, 0, exitUsage},
		{[]string{}, nil, false, 0, exitUsage},
		{[]string{"ID", "-nope"}, nil, false, 0, exitUsage},
	} {
		var stderr bytes.Buffer
		cl := newCommandLine(&console{stderr: &stderr, getenv: func(string) string { return "" }}, "task logs", "ID", "about", tc.args)
		follow := cl.fs.Bool("f", false, "")
		since := cl.fs.Int64("since", 0, "")
		pos, err := cl.parse(1, 1)
		if tc.wantErrCode != 0 {
			if code := report(err, &stderr); code != tc.wantErrCode {
				t.Errorf("%q: exit %d, want %d", tc.args, code, tc.wantErrCode)
			}
			continue
		}
		if err != nil || strings.Join(pos, " ") != strings.Join(tc.wantPos, " ") || *follow != tc.wantFollow || *since != tc.wantSince {
			t.Errorf("%q: %q, -f %v, -since %d, %v", tc.args, pos, *follow, *since, err)
		}
	}
	// -h is not a failure.
	cl := newCommandLine(&console{stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}, "task logs", "ID", "about", []string{"-h"})
	if _, err := cl.parse(1, 1); !errors.Is(err, errHelpShown) {
		t.Errorf("-h: %v", err)
	}
}

func TestColour(t *testing.T) {
	t.Parallel()
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		terminal bool
		getenv   func(string) string
		want     bool
	}{
		{true, env("TERM", "xterm-256color"), true},
		{false, env("TERM", "xterm-256color"), false},
		{true, env("NO_COLOR", "1"), false},
		{true, env("TERM", "dumb"), false},
	} {
		c := &console{getenv: tc.getenv}
		if got := c.colour(tc.terminal); got != tc.want {
			t.Errorf("terminal %v: colour %v, want %v", tc.terminal, got, tc.want)
		}
	}
	if s := (style{false}).state(domain.StateFailed); s != "failed" {
		t.Errorf("uncoloured state %q", s)
	}
	if s := (style{true}).state(domain.StateFailed); s != ansiRed+"failed"+ansiReset {
		t.Errorf("coloured state %q", s)
	}
}

func TestHumanTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"}, {42 * time.Second, "42s ago"}, {5 * time.Minute, "5m ago"},
		{3 * time.Hour, "3h ago"}, {50 * time.Hour, "2d ago"},
	} {
		if got := ago(now.Add(-tc.d), now); got != tc.want {
			t.Errorf("ago(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := ago(time.Time{}, now); got != "-" {
		t.Errorf("ago(zero) = %q", got)
	}
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond: "850ms", 4200 * time.Millisecond: "4.2s",
		185 * time.Second: "3m05s", 121 * time.Minute: "2h01m",
	} {
		if got := span(d); got != want {
			t.Errorf("span(%s) = %q, want %q", d, got, want)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The status line is drawn only while no output comes, at the start of a
// line, and cleared before output and at the end. The test ticks it and
// moves its clock.
func TestStatusLine(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64 // the status line's time, in ns since an instant
	start := time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return start.Add(time.Duration(clock.Load())) }
	ticks := make(chan time.Time)
	// tick returns once the status line has handled a tick (it takes the
	// next only after drawing).
	tick := func() { ticks <- now(); ticks <- now() }
	var term lockedBuffer
	s := tickingStatusLine(&term, now, ticks, func() {})
	out := s.writer(&term)
	drawn := func() int { return strings.Count(term.String(), "running") }

	s.set("running · 50% half")
	tick()
	if !strings.Contains(term.String(), "running · 50% half") {
		t.Fatalf("no status line drawn: %q", term.String())
	}
	if _, err := out.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	before := drawn()
	clock.Add(int64(statusQuiet))
	tick()
	if drawn() != before {
		t.Error("the status line was drawn in the middle of a line of output")
	}
	if _, err := out.Write([]byte(" line\n")); err != nil {
		t.Fatal(err)
	}
	tick()
	if drawn() != before {
		t.Error("the status line was drawn right after output")
	}
	clock.Add(int64(statusQuiet))
	tick()
	if drawn() == before {
		t.Error("the status line was not drawn again a while after a line of output")
	}
	s.close()
	s.close()
	got := term.String()
	if !strings.Contains(got, "\r\x1b[Kpartial line\n") || !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("terminal output %q", got)
	}

	// Off (not a terminal): output passes through, nothing is drawn.
	var plain bytes.Buffer
	off := newStatusLine(&plain, false, time.Now)
	off.set("running")
	if _, err := off.writer(&plain).Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	off.close()
	if plain.String() != "x\n" {
		t.Errorf("a disabled status line wrote %q", plain.String())
	}
}
