package shell

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/internal/utf8cut"
)

// readSize is the most one read of a pipe takes.
const readSize = 32 << 10

// progressPrefix starts a progress line of the stdout protocol.
const progressPrefix = "::progress "

// lockedSink serializes calls to a Sink: two stream readers share it.
type lockedSink struct {
	mu   sync.Mutex
	sink executors.Sink
}

func (s *lockedSink) output(stream domain.OutputStream, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sink.Output(stream, data)
}

func (s *lockedSink) progress(percent float64, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sink.Progress(percent, message)
}

// streamReader forwards one output pipe of a process to the sink until the
// pipe ends (every writer closed it, or forceClose closed it).
//
// stderr (lines false) is forwarded as read. stdout (lines true) is
// scanned for the progress protocol: complete lines are forwarded as they
// arrive, all complete lines of one read in one Output call; progress lines
// become Progress calls instead. An incomplete line is held until its
// newline, until it reaches maxLine bytes, or until it has waited delay,
// whichever comes first, and is then forwarded as it is; the rest of that
// line is forwarded as output too, never read as a progress line. A partial
// line that may still turn out to be a progress line is not flushed by the
// delay. At the end of the pipe, an unterminated last line counts as a line.
//
// Chunks flushed for size, and stderr chunks, hold back a UTF-8 sequence
// cut by the read (at most 3 bytes) for the next chunk, so that text split
// across chunks stays valid in each; the delay flushes those bytes too.
type streamReader struct {
	f       *os.File
	stream  domain.OutputStream
	sink    *lockedSink
	lines   bool
	maxLine int
	delay   time.Duration

	pending  []byte    // read but not yet forwarded
	midLine  bool      // part of the current stdout line was forwarded
	out      []byte    // the chunk being built for one Output call
	deadline time.Time // the pipe's read deadline; zero for none
}

// run reads until the pipe ends, then closes it.
func (r *streamReader) run() {
	defer closeAll(r.f)
	timed := r.delay > 0
	for {
		if timed {
			timed = r.armDeadline()
		}
		r.pending = slices.Grow(r.pending, readSize)
		n, err := r.f.Read(r.pending[len(r.pending) : len(r.pending)+readSize])
		r.pending = r.pending[:len(r.pending)+n]
		switch {
		case err == nil:
			r.forward(false)
		case errors.Is(err, os.ErrDeadlineExceeded):
			r.forward(true)
		default: // io.EOF, or os.ErrClosed after forceClose
			r.forward(false)
			r.flushAll()
			return
		}
	}
}

// armDeadline sets a read deadline when pending bytes start waiting for a
// flush (and keeps it while they wait: more bytes do not postpone it), and
// clears it when none wait; it reports false if the pipe does not support
// deadlines.
func (r *streamReader) armDeadline() bool {
	var t time.Time
	switch {
	case !r.flushable():
		if r.deadline.IsZero() {
			return true
		}
	case r.deadline.IsZero() || !time.Now().Before(r.deadline):
		t = time.Now().Add(r.delay)
	default:
		return true
	}
	if err := r.f.SetReadDeadline(t); err != nil {
		return false
	}
	r.deadline = t
	return true
}

// flushable reports whether pending holds bytes that the delay may flush.
func (r *streamReader) flushable() bool {
	if len(r.pending) == 0 {
		return false
	}
	return !r.lines || r.midLine || !mayBeProgress(r.pending)
}

// forward sends what pending holds that is ready to go; timedOut says the
// delay expired, which flushes a waiting partial line.
func (r *streamReader) forward(timedOut bool) {
	if !r.lines {
		n := len(r.pending)
		if !timedOut {
			n = utf8cut.Complete(r.pending)
		}
		r.out = append(r.out, r.pending[:n]...)
		r.consume(n)
		r.emit()
		return
	}
	start := 0
	for {
		i := bytes.IndexByte(r.pending[start:], '\n')
		if i < 0 {
			break
		}
		line := r.pending[start : start+i+1]
		start += i + 1
		// A line as long as maxLine is output however the reads cut it.
		if !r.midLine && len(line) <= r.maxLine {
			if pct, msg, ok := parseProgress(line); ok {
				r.emit()
				r.sink.progress(pct, msg)
				continue
			}
		}
		r.out = append(r.out, line...)
		r.midLine = false
	}
	rest := r.pending[start:]
	switch {
	case len(rest) >= r.maxLine:
		n := utf8cut.Complete(rest)
		r.out = append(r.out, rest[:n]...)
		r.midLine = r.midLine || n > 0
		start += n
	case timedOut && len(rest) > 0 && (r.midLine || !mayBeProgress(rest)):
		r.out = append(r.out, rest...)
		r.midLine = true
		start += len(rest)
	}
	r.consume(start)
	r.emit()
}

// flushAll forwards everything left at the end of the pipe, reading an
// unterminated last stdout line as a line.
func (r *streamReader) flushAll() {
	if r.lines && !r.midLine {
		if pct, msg, ok := parseProgress(r.pending); ok {
			r.consume(len(r.pending))
			r.sink.progress(pct, msg)
			return
		}
	}
	r.out = append(r.out, r.pending...)
	r.consume(len(r.pending))
	r.emit()
}

// consume drops the first n pending bytes, keeping the buffer's start.
func (r *streamReader) consume(n int) {
	r.pending = append(r.pending[:0], r.pending[n:]...)
}

// emit sends the chunk built so far, if any, as one Output call; the sink
// gets its own copy.
func (r *streamReader) emit() {
	if len(r.out) == 0 {
		return
	}
	r.sink.output(r.stream, bytes.Clone(r.out))
	r.out = r.out[:0]
}

// mayBeProgress reports whether the partial line p could still become a
// progress line.
func mayBeProgress(p []byte) bool {
	if len(p) < len(progressPrefix) {
		return string(p) == progressPrefix[:len(p)]
	}
	return string(p[:len(progressPrefix)]) == progressPrefix
}

// parseProgress reads a line of the progress protocol:
//
//	::progress <percent> [<message>]
//
// percent is a decimal number from 0 to 100 (digits and at most one dot);
// message is the rest of the line, possibly empty. A trailing "\n" or
// "\r\n" is not part of the line. ok is false for any other line.
func parseProgress(line []byte) (percent float64, message string, ok bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !bytes.HasPrefix(line, []byte(progressPrefix)) {
		return 0, "", false
	}
	num, message, _ := strings.Cut(string(line[len(progressPrefix):]), " ")
	if !isDecimal(num) {
		return 0, "", false
	}
	percent, err := strconv.ParseFloat(num, 64)
	if err != nil || percent < 0 || percent > 100 {
		return 0, "", false
	}
	return percent, strings.ToValidUTF8(message, "\uFFFD"), true
}

// isDecimal reports whether s is digits with at most one dot, and at least
// one digit: what ParseFloat accepts minus signs, exponents, hex, inf and nan.
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}
