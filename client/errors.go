package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// Sentinels that an *APIError matches with errors.Is, by its status (and,
// for ErrQuotaExceeded, its problem type).
var (
	// ErrInvalidInput: 400 or 413; APIError.Field names the input at fault.
	ErrInvalidInput = errors.New("axontask: invalid input")
	// ErrUnauthenticated: 401, a missing, malformed, expired or revoked
	// credential, or a wrong password.
	ErrUnauthenticated = errors.New("axontask: unauthenticated")
	// ErrForbidden: 403, good credentials whose role or scopes do not allow
	// the call.
	ErrForbidden = errors.New("axontask: forbidden")
	// ErrNotFound: 404; also what another tenant's task, key or member
	// answers.
	ErrNotFound = errors.New("axontask: not found")
	// ErrConflict: 409 (a finished task, a reused idempotency key, a taken
	// email address, the last owner).
	ErrConflict = errors.New("axontask: conflict")
	// ErrRateLimited: 429, a rate limit or a daily quota;
	// APIError.RetryAfter says how long to wait.
	ErrRateLimited = errors.New("axontask: rate limited")
	// ErrQuotaExceeded: 429 of type quota-exceeded, the tenant's daily task
	// quota; APIError.Plan, Limit, Used and ResetsAt describe it.
	ErrQuotaExceeded = errors.New("axontask: daily task quota exceeded")
)

// Problem types (RFC 9457 "type") that the client tells apart.
const (
	problemTaskFinished  = api.ProblemTypeBase + "task-finished"
	problemQuotaExceeded = api.ProblemTypeBase + "quota-exceeded"
)

// APIError is an answer that is not 2xx, parsed from its
// application/problem+json body (RFC 9457). An answer without one (a proxy's
// error page) has Title from its status and Detail from the start of its
// body. Its message never holds the credential or a resume token.
type APIError struct {
	// Method and Path are the request's (the path without its query).
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Type is the problem type, like "urn:axontask:problem:task-not-found";
	// "about:blank" or empty for a generic one.
	Type string
	// Title summarizes the problem type; Detail says what went wrong and how
	// to fix it.
	Title, Detail string
	// Field names the one input at fault, when there is one: a body field,
	// a query parameter, a header (Idempotency-Key, Last-Event-ID) or "id".
	Field string
	// State is the final state of a finished task, on a 409 task-finished.
	State domain.TaskState
	// Plan, Limit, Used and ResetsAt describe the daily quota, on a 429
	// quota-exceeded.
	Plan     domain.PlanName
	Limit    int
	Used     int
	ResetsAt time.Time
	// RetryAfter is the Retry-After header's wait (429, 503), or 0.
	RetryAfter time.Duration
	// RequestID is the server's X-Request-Id of the request, for support.
	RequestID string
}

// Error says which call failed and the server's title and detail.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "axontask: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %s)", e.Field)
	}
	return b.String()
}

// Is matches the package's sentinels by status (see their docs).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidInput:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusRequestEntityTooLarge
	case ErrUnauthenticated:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrQuotaExceeded:
		return e.Status == http.StatusTooManyRequests && e.Type == problemQuotaExceeded
	}
	return false
}

// retryable reports whether the request may succeed when sent again later:
// a server error, a timeout or a rate limit.
func (e *APIError) retryable() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// TaskFinishedError is CancelTask's error for a task that had already
// ended otherwise (a 409 task-finished). It unwraps to the *APIError, so
// errors.Is(err, ErrConflict) holds.
type TaskFinishedError struct {
	// State is the task's final state: succeeded, failed, canceled or
	// timed_out.
	State domain.TaskState
	// Err is the server's answer.
	Err *APIError
}

// Error returns the server's answer.
func (e *TaskFinishedError) Error() string { return e.Err.Error() }

// Unwrap returns the *APIError.
func (e *TaskFinishedError) Unwrap() error { return e.Err }

// readAPIError reads resp, an answer that is not 2xx, into an *APIError;
// it reads at most maxProblemBytes of the body and closes it.
func readAPIError(req *http.Request, resp *http.Response) *APIError {
	defer func() { _ = resp.Body.Close() }()
	e := &APIError{
		Method:     req.Method,
		Path:       req.URL.Path,
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		RequestID:  resp.Header.Get("X-Request-Id"),
	}
	// A longer body is a proxy's page, not a problem: its start will do.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProblemBytes))
	if err != nil {
		e.Title = http.StatusText(resp.StatusCode)
		e.Detail = "the answer's body could not be read: " + redact(err).Error()
		return e
	}
	var p api.Problem
	switch mediaType(resp.Header.Get("Content-Type")) {
	case "application/problem+json", "application/json":
		if json.Unmarshal(body, &p) != nil || (p.Title == "" && p.Detail == "") {
			break
		}
		e.Type, e.Title, e.Detail, e.Field = p.Type, p.Title, p.Detail, p.Field
		e.State, e.Plan, e.Limit, e.Used, e.ResetsAt = p.State, p.Plan, p.Limit, p.Used, p.ResetsAt.Time
		return e
	}
	e.Title = http.StatusText(resp.StatusCode)
	e.Detail = snippet(body)
	return e
}

// mediaType returns the media type of a Content-Type, lower case.
func mediaType(contentType string) string {
	t, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return t
}

// snippet returns the start of a body that is not a problem document, as
// one line of printable text.
func snippet(body []byte) string {
	const maxRunes = 200
	var b strings.Builder
	space := false
	n := 0
	for len(body) > 0 && n < maxRunes {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		n++
	}
	if len(body) > 0 && b.Len() > 0 {
		b.WriteString("…")
	}
	return b.String()
}

// parseRetryAfter parses a Retry-After header: seconds, or an HTTP date
// (relative to now). It returns 0 when there is none or it does not parse.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 24*60*60)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
