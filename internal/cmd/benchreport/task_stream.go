package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
)

// taskStream is a client's SSE stream of a task's events from its first
// one (no since_seq), read line by line, that checks it misses none.
type taskStream struct {
	body io.ReadCloser
	r    *bufio.Reader
	// last is the seq of the last frame read, 0 before the first: the
	// number of events read, as each frame must follow the one before.
	// Others may read it while the stream is read.
	last *atomic.Int64
}

// openTaskStream opens url, a task's stream, counting its frames in last.
// Close it when done.
func openTaskStream(ctx context.Context, client *http.Client, url string, last *atomic.Int64) (*taskStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("stream %s: status %d", url, resp.StatusCode)
	}
	return &taskStream{body: resp.Body, r: bufio.NewReader(resp.Body), last: last}, nil
}

// line returns the stream's next line, valid until the next call. An "id:"
// line is a frame: one whose seq is not the last one's plus 1 is an error
// naming the events missed (or repeated).
func (s *taskStream) line() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if id, ok := bytes.CutPrefix(line, []byte("id: ")); ok {
		seq, err := strconv.ParseInt(string(bytes.TrimSpace(id)), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("frame id %q is not a seq: %w", bytes.TrimSpace(id), err)
		}
		switch last := s.last.Load(); {
		case seq > last+1:
			return nil, fmt.Errorf("frame %d came after frame %d: events %d to %d were missed", seq, last, last+1, seq-1)
		case seq <= last:
			return nil, fmt.Errorf("frame %d came again after frame %d", seq, last)
		}
		s.last.Store(seq)
	}
	return line, nil
}

// Close closes the stream.
func (s *taskStream) Close() error { return s.body.Close() }
