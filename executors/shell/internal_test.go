package shell

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

func TestParseProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line    string
		ok      bool
		percent float64
		message string
	}{
		{"::progress 0\n", true, 0, ""},
		{"::progress 100 done\n", true, 100, "done"},
		{"::progress 42.25 two words \n", true, 42.25, "two words "},
		{"::progress 5 tab\there\r\n", true, 5, "tab\there"},
		{"::progress 5 \xff bad utf8\n", true, 5, "\uFFFD bad utf8"},
		{"::progress 5", true, 5, ""},
		{"::progress 100.0000001\n", false, 0, ""},
		{"::progress -0\n", false, 0, ""},
		{"::progress +5\n", false, 0, ""},
		{"::progress 1_0\n", false, 0, ""},
		{"::progress inf\n", false, 0, ""},
		{"::progress .\n", false, 0, ""},
		{"::progress 5\r\r\n", false, 0, ""},
		{"::progress\n", false, 0, ""},
		{"::progres 5\n", false, 0, ""},
		{"\n", false, 0, ""},
	}
	for _, tt := range tests {
		p, m, ok := parseProgress([]byte(tt.line))
		if ok != tt.ok || p != tt.percent || m != tt.message {
			t.Errorf("parseProgress(%q) = %g, %q, %t; want %g, %q, %t", tt.line, p, m, ok, tt.percent, tt.message, tt.ok)
		}
	}
}

func TestMayBeProgress(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		":": true, "::prog": true, "::progress": true, "::progress ": true, "::progress 5 almost": true,
		"x": false, "::x": false, "::progress5": false, " ::progress": false,
	} {
		if got := mayBeProgress([]byte(s)); got != want {
			t.Errorf("mayBeProgress(%q) = %t", s, got)
		}
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	state, pgrp, ok := parseStat([]byte("1234 (a (weird) name) S 1 1230 1230 0 -1 4194560\n"))
	if !ok || state != 'S' || pgrp != 1230 {
		t.Errorf("parseStat = %c, %d, %t", state, pgrp, ok)
	}
	if _, _, ok := parseStat([]byte("garbage")); ok {
		t.Error("parseStat accepted garbage")
	}
	self, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skip("no /proc")
	}
	state, pgrp, ok = parseStat(self)
	if !ok || state == 'Z' || pgrp != syscall.Getpgrp() {
		t.Errorf("parseStat(/proc/self/stat) = %c, %d, %t", state, pgrp, ok)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	allow := []string{"PATH"}
	c := Config{EnvAllowList: allow}.withDefaults()
	allow[0] = "CHANGED"
	if !slices.Equal(c.EnvAllowList, []string{"PATH"}) {
		t.Errorf("EnvAllowList aliases the caller's slice: %v", c.EnvAllowList)
	}
	d := Config{}.withDefaults()
	if !slices.Equal(d.EnvAllowList, []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER"}) ||
		d.GracePeriod != 5*time.Second || d.MaxLineBytes != 64<<10 || d.FlushDelay != DefaultFlushDelay || d.Logger == nil || d.DefaultDir != "" {
		t.Errorf("defaults %+v", d)
	}
	if err := d.validate(); err != nil {
		t.Error(err)
	}
	if e := (Config{EnvAllowList: []string{}}).withDefaults(); e.EnvAllowList == nil || len(e.EnvAllowList) != 0 {
		t.Errorf("an empty allow list became %v", e.EnvAllowList)
	}
}

func TestEnvironIsNeverNil(t *testing.T) {
	t.Parallel()
	// exec.Cmd runs a nil Env with the worker's whole environment.
	if env := environ(nil, nil); env == nil {
		t.Fatal("environ returned nil")
	}
}

// sinkLog records sink calls for streamReader tests.
type sinkLog struct {
	mu    sync.Mutex
	calls []string
	ch    chan struct{}
}

func (s *sinkLog) Output(stream domain.OutputStream, data []byte) {
	s.add(fmt.Sprintf("%s %q", stream, data))
}
func (s *sinkLog) Progress(p float64, m string) { s.add(fmt.Sprintf("progress %g %q", p, m)) }
func (s *sinkLog) add(c string) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	s.ch <- struct{}{}
}

func (s *sinkLog) get() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// TestStreamReader drives a reader through a real pipe, one write at a
// time, and checks what each write produces before the next.
func TestStreamReader(t *testing.T) {
	t.Parallel()
	type step struct {
		write string
		want  []string // the calls this write causes, in order (after the delay, if any)
		pause bool     // wait well past the delay, to see that nothing more comes
	}
	tests := []struct {
		name  string
		lines bool
		steps []step
		atEOF []string
	}{
		{
			name:  "stdout: lines go at once, a partial line after the delay",
			lines: true,
			steps: []step{
				{"one\ntwo\npar", []string{`stdout "one\ntwo\n"`, `stdout "par"`}, false},
				{"tial\n::progress 5 x\n", []string{`stdout "tial\n"`, `progress 5 "x"`}, false},
				{"::progress 6", nil, false},
				{" y\nz", []string{`progress 6 "y"`, `stdout "z"`}, false},
			},
		},
		{
			name:  "stdout: a cut rune is held only by size flushes, the delay sends it",
			lines: true,
			steps: []step{
				{strings.Repeat("a", 63) + "\xe2", []string{`stdout "` + strings.Repeat("a", 63) + `"`, `stdout "\xe2"`}, false},
				{"\x82\xac\n", []string{`stdout "\x82\xac\n"`}, true},
			},
		},
		{
			name:  "stdout: a partial progress line stays until the end",
			lines: true,
			steps: []step{{"::progress 50 hal", nil, true}},
			atEOF: []string{`progress 50 "hal"`},
		},
		{
			name: "stderr: a cut rune waits for the rest, or for the delay",
			steps: []step{
				{"ab\xe2\x82", []string{`stderr "ab"`, `stderr "\xe2\x82"`}, false},
				{"\xac", []string{`stderr "\xac"`}, false},
				{"€\xe2", []string{`stderr "€"`, `stderr "\xe2"`}, false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			sink := &sinkLog{ch: make(chan struct{}, 100)}
			stream := domain.Stderr
			if tt.lines {
				stream = domain.Stdout
			}
			r := &streamReader{f: pr, stream: stream, sink: &lockedSink{sink: sink}, lines: tt.lines, maxLine: 64, delay: 50 * time.Millisecond}
			done := make(chan struct{})
			go func() {
				r.run()
				close(done)
			}()
			var want []string
			for _, s := range tt.steps {
				if _, err := pw.WriteString(s.write); err != nil {
					t.Fatal(err)
				}
				want = append(want, s.want...)
				for range s.want {
					select {
					case <-sink.ch:
					case <-time.After(10 * time.Second):
						t.Fatalf("after %q: calls %q, want %q", s.write, sink.get(), want)
					}
				}
				if s.pause {
					time.Sleep(5 * r.delay)
				}
				if got := sink.get(); !slices.Equal(got, want) {
					t.Fatalf("after %q: calls %q, want %q", s.write, got, want)
				}
			}
			_ = pw.Close()
			<-done
			want = append(want, tt.atEOF...)
			if got := sink.get(); !slices.Equal(got, want) {
				t.Fatalf("at EOF: calls %q, want %q", got, want)
			}
		})
	}
}
