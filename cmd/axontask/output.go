package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/axontask/axontask/domain"
)

// writeJSON writes v as one indented JSON document, the --json output of
// every command but a followed log.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// writeJSONFile writes v with writeJSON to a file created (or truncated) at
// path.
func writeJSONFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeJSON(f, v); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// style colours text with ANSI escapes, or not at all when off.
type style struct{ on bool }

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func (s style) paint(code, text string) string {
	if !s.on || text == "" {
		return text
	}
	return code + text + ansiReset
}

func (s style) bold(text string) string { return s.paint(ansiBold, text) }
func (s style) dim(text string) string  { return s.paint(ansiDim, text) }

// state paints a task state by its meaning: green succeeded, red failed
// or timed out, yellow canceled, cyan running, dim waiting.
func (s style) state(st domain.TaskState) string {
	text := string(st)
	switch st {
	case domain.StateSucceeded:
		return s.paint(ansiGreen, text)
	case domain.StateFailed, domain.StateTimedOut:
		return s.paint(ansiRed, text)
	case domain.StateCanceled:
		return s.paint(ansiYellow, text)
	case domain.StateRunning:
		return s.paint(ansiCyan, text)
	case domain.StateNew, domain.StateCreated, domain.StateQueued:
	}
	return s.dim(text)
}

// padded pads a possibly painted text to width visible characters, for
// columns of coloured text (tabwriter would count the escapes).
func padded(painted, plain string, width int) string {
	return painted + strings.Repeat(" ", max(width-utf8.RuneCountInString(plain), 0))
}

// ago says how long before now t was, for people: "just now", "42s ago",
// "5m ago", "3h ago", "2d ago", or the date past a week; "-" for the zero
// time.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	case d < 7*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
	return t.Local().Format("2006-01-02")
}

// when shows t in the local time zone and how long ago it was, or "-".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05 MST") + " (" + ago(t, now) + ")"
}

// span formats a duration for people: "850ms", "4.2s", "3m05s", "2h01m".
func span(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// runTime is how long a task ran (or has been running), or "-".
func runTime(started, ended, now time.Time) string {
	switch {
	case started.IsZero():
		return "-"
	case ended.IsZero():
		return span(now.Sub(started))
	}
	return span(ended.Sub(started))
}

// truncate cuts s to at most n runes, marking a cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// statusLine draws one line of status — a spinner, the task's state, its
// progress — at the bottom of a terminal while a command waits, below the
// task's output. Writes through its writers clear the line first, and it is
// drawn again only at the start of a line, after a moment without output.
// A disabled statusLine (not a terminal) draws nothing and passes writes
// through. Its methods are safe for concurrent use.
type statusLine struct {
	mu         sync.Mutex
	term       io.Writer // where the line is drawn
	on         bool
	text       string
	shown      bool
	lineStart  bool // the output so far ends with a newline
	lastOutput time.Time
	frame      int
	now        func() time.Time
	stop, done chan struct{}
	closeOnce  sync.Once
}

// spinnerFrames are the spinner's frames.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Timing of the status line.
const (
	statusTick  = 100 * time.Millisecond
	statusQuiet = 300 * time.Millisecond // no drawing this soon after output
	statusWidth = 78
)

// newStatusLine returns a status line drawn on term when on, ticking
// until close.
func newStatusLine(term io.Writer, on bool, now func() time.Time) *statusLine {
	if !on {
		return &statusLine{term: term, lineStart: true, now: now}
	}
	t := time.NewTicker(statusTick)
	return tickingStatusLine(term, now, t.C, t.Stop)
}

// tickingStatusLine returns a status line drawn on term at each of ticks
// (when due) until close, which then calls stopTicks.
func tickingStatusLine(term io.Writer, now func() time.Time, ticks <-chan time.Time, stopTicks func()) *statusLine {
	s := &statusLine{term: term, on: true, lineStart: true, now: now, stop: make(chan struct{}), done: make(chan struct{})}
	go s.tick(ticks, stopTicks)
	return s
}

func (s *statusLine) tick(ticks <-chan time.Time, stopTicks func()) {
	defer close(s.done)
	defer stopTicks()
	for {
		select {
		case <-s.stop:
			return
		case <-ticks:
			s.mu.Lock()
			s.draw()
			s.mu.Unlock()
		}
	}
}

// draw shows the line; s.mu is held.
func (s *statusLine) draw() {
	if s.text == "" || !s.lineStart || s.now().Sub(s.lastOutput) < statusQuiet {
		return
	}
	s.frame = (s.frame + 1) % len(spinnerFrames)
	fmt.Fprint(s.term, "\r\x1b[K"+ansiCyan+spinnerFrames[s.frame]+ansiReset+" "+truncate(s.text, statusWidth-2))
	s.shown = true
}

// clear removes the line; s.mu is held.
func (s *statusLine) clear() {
	if s.shown {
		fmt.Fprint(s.term, "\r\x1b[K")
		s.shown = false
	}
}

// set changes the line's text ("" hides it).
func (s *statusLine) set(text string) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.text = text
	if text == "" {
		s.clear()
	}
}

// writer returns a writer to w that keeps the line out of the output.
func (s *statusLine) writer(w io.Writer) io.Writer {
	if !s.on {
		return w
	}
	return statusWriter{s, w}
}

type statusWriter struct {
	s *statusLine
	w io.Writer
}

func (sw statusWriter) Write(p []byte) (int, error) {
	sw.s.mu.Lock()
	defer sw.s.mu.Unlock()
	sw.s.clear()
	n, err := sw.w.Write(p)
	if n > 0 {
		sw.s.lineStart = p[n-1] == '\n'
		sw.s.lastOutput = sw.s.now()
	}
	return n, err
}

// close stops the ticking and removes the line; later calls do nothing.
func (s *statusLine) close() {
	if !s.on {
		return
	}
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		s.clear()
		s.text = ""
	})
}
