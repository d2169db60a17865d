package client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// errLineTooLong: an SSE line longer than any event the server may send.
var errLineTooLong = fmt.Errorf("an SSE line is longer than %d bytes, more than any event", maxEventBytes)

// sseFrame is one dispatched Server-Sent Event. data is valid until the
// reader's next call.
type sseFrame struct {
	id, event string
	data      []byte
}

// sseReader reads Server-Sent Events (the WHATWG event stream format) from
// one connection: fields id, event, data and retry, comments, lines ended by
// LF or CRLF, each at most maxLine bytes.
type sseReader struct {
	br      *bufio.Reader
	maxLine int
	line    []byte
	data    []byte
	// retry is the last reconnection delay the server asked for, or 0.
	retry time.Duration
}

func newSSEReader(r io.Reader, maxLine int) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 64<<10), maxLine: maxLine}
}

// next returns the next frame that carries data. At the end of the input
// it returns io.EOF when the input ended between frames, and
// io.ErrUnexpectedEOF when it ended inside one (the partial frame is
// dropped, as the format requires).
func (r *sseReader) next() (sseFrame, error) {
	var f sseFrame
	r.data = r.data[:0]
	hasData, inFrame := false, false
	for {
		line, err := r.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && inFrame {
				return sseFrame{}, io.ErrUnexpectedEOF
			}
			return sseFrame{}, err
		}
		if len(line) == 0 {
			if hasData {
				f.data = r.data
				return f, nil
			}
			// A frame without data (the retry hint) dispatches nothing.
			f, inFrame = sseFrame{}, false
			continue
		}
		inFrame = true
		if line[0] == ':' {
			continue // a comment: the server's ping
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(name) {
		case "data":
			if hasData {
				r.data = append(r.data, '\n')
			}
			r.data = append(r.data, value...)
			hasData = true
		case "event":
			f.event = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				f.id = string(value)
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
}

// readLine returns the next line without its LF or CRLF; the slice is
// valid until the next call. A line cut by the end of the input is
// io.ErrUnexpectedEOF.
func (r *sseReader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.line)+len(chunk) > r.maxLine+2 { // +2: the CRLF
			return nil, errLineTooLong
		}
		r.line = append(r.line, chunk...)
		switch {
		case err == nil:
			line := bytes.TrimSuffix(r.line[:len(r.line)-1], []byte("\r"))
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(r.line) > 0:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
