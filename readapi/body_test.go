package readapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
)

// FuzzDecodeBody: request bodies are outside input. decodeBody never
// panics; it fails with errTooLarge or a *ValidationError naming the body,
// a field of the request or the unknown field; and a body it accepts is
// JSON whose decoded value re-encodes to a body that decodes the same.
func FuzzDecodeBody(f *testing.F) {
	// The edge cases are in testdata/fuzz/FuzzDecodeBody.
	f.Add([]byte(`{"name":"build","adapter":"shell","args":{"command":["make"]},"timeout_s":60}`))
	fields := []string{"body", "name", "adapter", "args", "timeout_s"}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeStart(t.Context(), body)
		if err != nil {
			var verr *domain.ValidationError
			if !errors.Is(err, errTooLarge) && (!errors.As(err, &verr) ||
				!slices.Contains(fields, verr.Field) && !strings.HasPrefix(verr.Field, "args.") && !strings.HasPrefix(verr.Field, "args[") &&
					!strings.HasPrefix(verr.Reason, "is not a known field")) {
				t.Fatalf("decodeBody(%q) = %v; want a *ValidationError naming the body or a field", body, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decodeBody accepted invalid JSON %q", body)
		}
		once, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", req, err)
		}
		back, err := decodeStart(t.Context(), once)
		if err != nil {
			t.Fatalf("decodeBody(%q) = %#v, whose encoding %s is rejected: %v", body, req, once, err)
		}
		if twice, _ := json.Marshal(back); !bytes.Equal(once, twice) {
			t.Fatalf("decodeBody(%q) = %s, which decodes back as %s", body, once, twice)
		}
	})
}

// decodeStart decodes body as the body of a start_task request.
func decodeStart(ctx context.Context, body []byte) (wire.StartTaskRequest, error) {
	var req wire.StartTaskRequest
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/mcp/start_task", bytes.NewReader(body))
	err := decodeBody(httptest.NewRecorder(), r, &req)
	return req, err
}

// Bodies that encoding/json would take with a silent loss are refused,
// naming the field.
func TestDecodeBodyIsStrict(t *testing.T) {
	for _, c := range []struct{ body, field, reason string }{
		{`{"name":"a","name":"b","adapter":"mock"}`, "name", "appears twice"},
		{`{"name":"a","adapter":"shell","args":{"command":["env"],"env":{"K":"1","K":"2"}}}`, "args.env.K", "appears twice"},
		{"{\"name\":\"a\xff\",\"adapter\":\"mock\"}", "name", "not valid UTF-8"},
		{"{\"name\":\"a\",\"adapter\":\"shell\",\"args\":{\"command\":[\"echo\",\"\xc3\"]}}", "args.command[1]", "not valid UTF-8"},
		{"{\"name\":\"a\",\"adapter\":\"shell\",\"args\":{\"command\":[\"env\"],\"env\":{\"K\xff\":\"1\"}}}", "args.env", "member name that is not valid UTF-8"},
	} {
		_, err := decodeStart(t.Context(), []byte(c.body))
		var verr *domain.ValidationError
		if !errors.As(err, &verr) || verr.Field != c.field || !strings.Contains(verr.Reason, c.reason) {
			t.Errorf("decodeBody(%q) = %v; want a ValidationError on %q saying %q", c.body, err, c.field, c.reason)
		}
	}
	if _, err := decodeStart(t.Context(), []byte(`{"name":"ünïcode ✓","adapter":"mock","args":{"steps":1}}`)); err != nil {
		t.Errorf("a valid body with non-ASCII text: %v", err)
	}
}

// A request whose client has left is neither answered nor logged as a
// failure of ours; the same error on a live request is a logged 500.
func TestWriteErrorForAClientThatLeft(t *testing.T) {
	var logs bytes.Buffer
	a := &api{cfg: Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec := httptest.NewRecorder()
	a.writeError(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/mcp/tasks/x/status", nil), fmt.Errorf("read stream: %w", context.Canceled))
	if rec.Body.Len() != 0 || logs.Len() != 0 {
		t.Fatalf("for a client that left: answered %d %q, logged %q", rec.Code, rec.Body.String(), logs.String())
	}
	rec = httptest.NewRecorder()
	a.writeError(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/mcp/tasks/x/status", nil), fmt.Errorf("read stream: %w", context.Canceled))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("for a live client: answered %d, logged %q", rec.Code, logs.String())
	}
}
