package client

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestSSEReader(t *testing.T) {
	t.Parallel()
	in := "retry: 2000\n\n" +
		": ping\n\n" +
		"id: 1\r\nevent: a\r\ndata: {\"x\":1}\r\n\r\n" +
		"id: 2\nevent: b\ndata: one\ndata:two\nunknown: field\n\n" +
		"data\n\n" +
		"retry: soon\nid: 3\n\n" +
		"id: 4\ndata: cut"
	r := newSSEReader(strings.NewReader(in), 64)
	want := []sseFrame{
		{id: "1", event: "a", data: []byte(`{"x":1}`)},
		{id: "2", event: "b", data: []byte("one\ntwo")},
		{data: []byte("")},
	}
	for i, w := range want {
		f, err := r.next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.id != w.id || f.event != w.event || string(f.data) != string(w.data) {
			t.Fatalf("frame %d: %+v (%q), want %+v", i, f, f.data, w)
		}
	}
	if r.retry != 2*time.Second {
		t.Fatalf("retry %s", r.retry)
	}
	if _, err := r.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("a frame cut short: %v", err)
	}

	r = newSSEReader(strings.NewReader("id: 1\ndata: x\n\n"), 64)
	if _, err := r.next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("the end between frames: %v", err)
	}

	r = newSSEReader(strings.NewReader("data: "+strings.Repeat("x", 100)+"\n\n"), 64)
	if _, err := r.next(); !errors.Is(err, errLineTooLong) {
		t.Fatalf("a line past the bound: %v", err)
	}
	// A line longer than bufio's buffer but within the bound is read whole.
	long := strings.Repeat("y", 200<<10)
	r = newSSEReader(strings.NewReader("data: "+long+"\n\n"), 256<<10)
	if f, err := r.next(); err != nil || string(f.data) != long {
		t.Fatalf("a long line: %d bytes, %v", len(f.data), err)
	}
}

// FuzzSSEReader: the event stream comes from the network. The reader never
// panics and ends every input with an error it documents; it yields the
// same frames and error however the input is split into reads; and each
// frame, written back in the format, reads back as the same frame, so a
// frame holds exactly the fields of its input.
func FuzzSSEReader(f *testing.F) {
	// The edge cases are in testdata/fuzz/FuzzSSEReader.
	f.Add([]byte("retry: 2000\n\n: ping\n\nid: 1\nevent: task.created\ndata: {\"seq\":1}\n\n"))
	f.Add([]byte("id: 2\r\nevent: b\r\ndata: one\r\ndata:two\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const maxLine = 64
		frames, retry, err := readFrames(newSSEReader(bytes.NewReader(in), maxLine))
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errLineTooLong) {
			t.Fatalf("%q ends with %v", in, err)
		}
		byByte, byteRetry, byteErr := readFrames(newSSEReader(iotest.OneByteReader(bytes.NewReader(in)), maxLine))
		if !slices.EqualFunc(frames, byByte, sameFrame) || byteRetry != retry || !errors.Is(byteErr, err) {
			t.Fatalf("%q read at once: %q, retry %s, %v; a byte at a time: %q, retry %s, %v", in, frames, retry, err, byByte, byteRetry, byteErr)
		}
		var out bytes.Buffer
		for _, fr := range frames {
			writeFrame(&out, fr)
		}
		back, _, err := readFrames(newSSEReader(&out, len(in)+len("data: ")))
		if !errors.Is(err, io.EOF) || !slices.EqualFunc(frames, back, sameFrame) {
			t.Fatalf("%q read as %q, which written back reads as %q, %v", in, frames, back, err)
		}
	})
}

// readFrames reads r to its end, returning its frames (copied), its last
// retry hint and the error that ended it.
func readFrames(r *sseReader) ([]sseFrame, time.Duration, error) {
	var frames []sseFrame
	for {
		f, err := r.next()
		if err != nil {
			return frames, r.retry, err
		}
		f.data = bytes.Clone(f.data)
		frames = append(frames, f)
	}
}

// writeFrame writes f in the event stream format, each line ended by CRLF,
// so that a value ending in CR keeps it.
func writeFrame(w *bytes.Buffer, f sseFrame) {
	if f.id != "" {
		w.WriteString("id: " + f.id + "\r\n")
	}
	if f.event != "" {
		w.WriteString("event: " + f.event + "\r\n")
	}
	for line := range bytes.SplitSeq(f.data, []byte("\n")) {
		w.WriteString("data: " + string(line) + "\r\n")
	}
	w.WriteString("\r\n")
}

func sameFrame(a, b sseFrame) bool {
	return a.id == b.id && a.event == b.event && bytes.Equal(a.data, b.data)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("Retry-After %q: %s, want %s", tc.in, got, tc.want)
		}
	}
}
