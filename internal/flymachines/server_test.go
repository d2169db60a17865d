package flymachines_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/axontask/axontask/internal/flymachines"
)

const token = "tok"

// do makes a request to the double and returns the status, the
// Retry-After header and the decoded JSON body.
func do(t *testing.T, s *flymachines.Server, method, path, body string) (int, string, any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, path, b)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), v
}

func TestDoubleFollowsTheAPI(t *testing.T) {
	t.Parallel()
	s := flymachines.Start(t, token, "app")
	const create = `{"config":{"image":"img","init":{"cmd":["print:hi","serve"]},"metadata":{"k":"v"}}}`

	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL+"/v1/apps/app/machines", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("a wrong token: %d, want 401", resp.StatusCode)
	}
	if st, _, _ := do(t, s, "GET", "/v1/apps/nope/machines", ""); st != 404 {
		t.Errorf("an unknown app: %d, want 404", st)
	}
	if st, _, body := do(t, s, "POST", "/v1/apps/app/machines", `{"config":{}}`); st != 422 {
		t.Errorf("a config without an image: %d %v, want 422", st, body)
	}
	st, _, body := do(t, s, "POST", "/v1/apps/app/machines", create)
	if st != 200 {
		t.Fatalf("create: %d %v", st, body)
	}
	id := body.(map[string]any)["id"].(string)
	if st, _, _ := do(t, s, "GET", "/v1/apps/app/machines/"+id+"/wait?state=started&timeout=1", ""); st != 200 {
		t.Errorf("wait started: %d, want 200", st)
	}
	if st, _, _ := do(t, s, "GET", "/v1/apps/app/machines/"+id+"/wait?state=stopped&timeout=1", ""); st != 408 {
		t.Errorf("wait stopped on a running machine: %d, want 408", st)
	}
	if st, _, _ := do(t, s, "DELETE", "/v1/apps/app/machines/"+id, ""); st != 412 {
		t.Errorf("destroy a started machine without force: %d, want 412", st)
	}
	for q, want := range map[string]int{"metadata.k=v": 1, "metadata.k=w": 0} {
		if _, _, list := do(t, s, "GET", "/v1/apps/app/machines?"+q, ""); len(list.([]any)) != want {
			t.Errorf("list ?%s: %v, want %d machines", q, list, want)
		}
	}
	if st, _, _ := do(t, s, "POST", "/v1/apps/app/machines/"+id+"/stop", `{"signal":"SIGTERM","timeout":"5s"}`); st != 200 {
		t.Errorf("stop: %d", st)
	}
	_, _, m := do(t, s, "GET", "/v1/apps/app/machines/"+id, "")
	events := m.(map[string]any)["events"].([]any)
	exit := events[0].(map[string]any)
	if exit["type"] != "exit" || exit["request"].(map[string]any)["exit_event"].(map[string]any)["exit_code"] != 143.0 {
		t.Errorf("the newest event after a stop: %v; want exit with exit_code 143", exit)
	}
	if st, _, _ := do(t, s, "DELETE", "/v1/apps/app/machines/"+id+"?force=true", ""); st != 200 {
		t.Errorf("destroy: %d", st)
	}
	if _, _, list := do(t, s, "GET", "/v1/apps/app/machines", ""); len(list.([]any)) != 0 {
		t.Errorf("list after destroy: %v; want none (include_deleted=true shows it)", list)
	}
	_, _, logs := do(t, s, "GET", "/api/v1/apps/app/logs?instance="+id, "")
	data := logs.(map[string]any)["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["attributes"].(map[string]any)["message"] != "hi" {
		t.Errorf("logs: %v", logs)
	}
	s.Fail(flymachines.Fault{PathContains: "/machines", Status: 429, RetryAfter: "3", Times: 1})
	if st, ra, _ := do(t, s, "GET", "/v1/apps/app/machines", ""); st != 429 || ra != "3" {
		t.Errorf("an injected 429: %d Retry-After %q", st, ra)
	}
	if st, _, _ := do(t, s, "GET", "/v1/apps/app/machines", ""); st != 200 {
		t.Errorf("after the fault: %d", st)
	}
}
