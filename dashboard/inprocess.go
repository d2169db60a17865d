package dashboard

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// inProcess is an http.RoundTripper that serves each request with the API
// handler in this process, as if it came from the browser's address (so
// that the API's per-address limits, on sign-in for one, count the
// browser). Only for answers that end: a stream would never return.
type inProcess struct {
	api        http.Handler
	remoteAddr string
}

// RoundTrip serves req with the API handler and returns its answer.
func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	req = detached(req)
	req.RemoteAddr = t.remoteAddr
	req.RequestURI = req.URL.RequestURI()
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := &recorder{header: http.Header{}}
	t.api.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status: strconv.Itoa(rec.status) + " " + http.StatusText(rec.status), StatusCode: rec.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

// recorder is the http.ResponseWriter of an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the answer's header.
func (r *recorder) Header() http.Header { return r.header }

// WriteHeader records the status of the first call.
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Write appends to the body.
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
