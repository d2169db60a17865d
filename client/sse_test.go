package client

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
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
