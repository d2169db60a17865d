package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Len returns how many bytes were written, so that a later String()[n:]
// is what came after.
func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// call sends a JSON request with an optional bearer and decodes the answer
// into out (when not nil); it returns the status.
func call(t *testing.T, method, url, bearer, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		_ = json.Unmarshal(b, out)
	}
	return resp.StatusCode
}

// A dev process logging at debug level goes through every identity flow,
// successes and failures; no password, token or key appears in its log.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	dev := startDev(t, &logs)
	cmd, dataDir, base, devKey := dev.cmd, dev.dataDir, dev.base, dev.key

	const password = "a very secret passphrase"
	type tokens struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	var reg, login, rotated tokens
	if s := call(t, "POST", base+"/v1/auth/register", "", `{"email":"ada@example.com","password":"`+password+`","tenant_name":"Acme"}`, &reg); s != 201 {
		t.Fatalf("register: %d", s)
	}
	call(t, "POST", base+"/v1/auth/register", "", `{"email":"ada@example.com","password":"`+password+`","tenant_name":"Acme"}`, nil)
	call(t, "POST", base+"/v1/auth/login", "", `{"email":"ada@example.com","password":"`+password+`x"}`, nil)
	if s := call(t, "POST", base+"/v1/auth/login", "", `{"email":"ada@example.com","password":"`+password+`"}`, &login); s != 200 {
		t.Fatalf("login: %d", s)
	}
	if s := call(t, "POST", base+"/v1/auth/refresh", "", `{"refresh_token":"`+reg.RefreshToken+`"}`, &rotated); s != 200 {
		t.Fatalf("refresh: %d", s)
	}
	if s := call(t, "POST", base+"/v1/auth/refresh", "", `{"refresh_token":"`+reg.RefreshToken+`"}`, nil); s != 401 {
		t.Fatalf("replayed refresh: %d", s)
	}
	var key struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if s := call(t, "POST", base+"/v1/api-keys", login.AccessToken, `{"name":"ci","scopes":["tasks:read","tasks:write"]}`, &key); s != 201 {
		t.Fatalf("create key: %d", s)
	}
	var started struct {
		TaskID      string `json:"task_id"`
		ResumeToken string `json:"resume_token"`
	}
	if s := call(t, "POST", base+"/mcp/start_task", key.Key, `{"name":"t","adapter":"mock","args":{"steps":1}}`, &started); s != 201 {
		t.Fatalf("start: %d", s)
	}
	call(t, "GET", base+"/mcp/tasks/"+started.TaskID+"/stream?token="+started.ResumeToken, "", "", nil)
	call(t, "GET", base+"/mcp/tasks/"+started.TaskID+"/status?token="+started.ResumeToken+"x", "", "", nil)
	call(t, "DELETE", base+"/v1/api-keys/"+key.ID, login.AccessToken, "", nil)
	call(t, "GET", base+"/v1/tasks", key.Key, "", nil)
	call(t, "GET", base+"/v1/tasks", login.AccessToken[:len(login.AccessToken)-3]+"abc", "", nil)
	call(t, "GET", base+"/v1/tasks", "axt_"+strings.Repeat("a", 12)+"_"+strings.Repeat("b", 52), "", nil)
	call(t, "GET", base+"/v1/tasks", devKey, "", nil)
	call(t, "POST", base+"/v1/auth/logout", "", `{"refresh_token":"`+login.RefreshToken+`"}`, nil)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dev did not stop")
	}

	creds, err := os.ReadFile(filepath.Join(dataDir, "dev-credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var stored devCredentials
	if err := json.Unmarshal(creds, &stored); err != nil {
		t.Fatal(err)
	}
	tokenKey, err := os.ReadFile(filepath.Join(dataDir, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, "\n") < 5 {
		t.Fatalf("the log has too few lines to prove anything:\n%s", out)
	}
	secrets := map[string]string{
		"password": password, "dev password": stored.Password, "dev API key": devKey, "API key": key.Key,
		"API key secret": key.Key[len(key.Key)-52:], "resume token": started.ResumeToken,
		"token key": strings.TrimSpace(string(tokenKey)),
	}
	for name, tok := range map[string]string{"access token": login.AccessToken, "first access token": reg.AccessToken, "rotated access token": rotated.AccessToken} {
		secrets[name] = tok
		secrets[name+" signature"] = tok[strings.LastIndexByte(tok, '.')+1:]
	}
	for name, tok := range map[string]string{"refresh token": login.RefreshToken, "first refresh token": reg.RefreshToken, "rotated refresh token": rotated.RefreshToken} {
		secrets[name] = tok
		secrets[name+" secret"] = tok[len(tok)-43:]
	}
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty: the flow did not run", name)
		}
		if strings.Contains(out, s) {
			t.Errorf("the log holds the %s", name)
		}
	}
}
