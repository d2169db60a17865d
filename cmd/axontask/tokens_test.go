package main

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Resume tokens and access tokens come from one secret (dev's token.key)
// but are signed with different keys derived from it, and neither passes
// for the other over real HTTP: a resume token is no bearer credential
// (401), an access token is no ?token= (404, as any wrong token). A resume
// token signed with the secret itself, as before the keys were derived,
// no longer verifies.
func TestTokenKindsDoNotCross(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if s := call(t, "POST", dev.base+"/v1/auth/login", "", `{"email":"`+devEmail+`","password":"`+devPassword(t, dev)+`"}`, &login); s != 200 {
		t.Fatalf("login: %d", s)
	}
	var started struct {
		TaskID      string `json:"task_id"`
		ResumeToken string `json:"resume_token"`
	}
	if s := call(t, "POST", dev.base+"/mcp/start_task", login.AccessToken, `{"name":"t","adapter":"mock","args":{"steps":1}}`, &started); s != 201 {
		t.Fatalf("start: %d", s)
	}
	task := dev.base + "/mcp/tasks/" + started.TaskID
	reads := []string{task + "/status", task + "/stream", dev.base + "/v1/tasks/" + started.TaskID + "/events"}
	status := reads[0]

	// Each token works where it belongs: the refusals below are for the
	// token's kind, not for the task or the token.
	if s := call(t, "GET", status, login.AccessToken, "", nil); s != 200 {
		t.Fatalf("status as the task's tenant, with an access token: %d", s)
	}
	if s := call(t, "GET", status+"?token="+started.ResumeToken, "", "", nil); s != 200 {
		t.Fatalf("status with the resume token: %d", s)
	}

	for _, url := range append(reads, dev.base+"/v1/tasks") {
		if s := call(t, "GET", url, started.ResumeToken, "", nil); s != 401 {
			t.Errorf("GET %s with the resume token as a bearer: %d, want 401", url, s)
		}
	}
	for _, url := range reads {
		if s := call(t, "GET", url+"?token="+login.AccessToken, "", "", nil); s != 404 {
			t.Errorf("GET %s with an access token as ?token=: %d, want 404", url, s)
		}
	}

	// The resume token is the HMAC of the task and its tenant under the key
	// derived from token.key, not under token.key itself.
	raw, err := os.ReadFile(filepath.Join(dev.dataDir, "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	derived, err := hkdf.Key(sha256.New, secret, nil, "axontask resume token v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	tenant := tenantOf(t, login.AccessToken)
	if got := resumeToken(derived, started.TaskID, tenant); got != started.ResumeToken {
		t.Fatalf("the resume token is not the HMAC under the derived key")
	}
	legacy := resumeToken(secret, started.TaskID, tenant)
	if s := call(t, "GET", status+"?token="+legacy, "", "", nil); s != 404 {
		t.Errorf("status with a resume token signed by the secret itself: %d, want 404", s)
	}
}

// resumeToken computes a task's resume token under key (readapi's format).
func resumeToken(key []byte, taskID, tenantID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("v1\x00" + taskID + "\x00" + tenantID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tenantOf returns the tenant_id claim of an access token.
func tenantOf(t *testing.T, accessToken string) string {
	t.Helper()
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("the access token has %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		TenantID string `json:"tenant_id"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.TenantID == "" {
		t.Fatalf("the access token's tenant_id: %v", err)
	}
	return claims.TenantID
}

// serve and dev refuse, before they open anything, a JWT_SECRET that is
// unset (serve), too short or a placeholder, and say how to make one.
func TestBadJWTSecretRefusedAtStart(t *testing.T) {
	t.Parallel()
	var env []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name != "JWT_SECRET" && name != "JWT_KEYS" {
			env = append(env, kv)
		}
	}
	for _, tc := range []struct {
		command, secret, says string
	}{
		{"serve", "", "set JWT_SECRET to a long random secret"},
		{"serve", "too-short-a-secret", "JWT_SECRET is 18 bytes, shorter than 32"},
		{"serve", "change-me-to-a-long-random-secret-of-32-bytes", "JWT_SECRET is a placeholder"},
		{"dev", "change-me-to-a-long-random-secret-of-32-bytes", "JWT_SECRET is a placeholder"},
		{"dev", "too-short-a-secret", "JWT_SECRET is 18 bytes"},
	} {
		// DATABASE_URL points nowhere: serve must refuse before it connects.
		cmd := exec.CommandContext(t.Context(), binary(t), tc.command, "-port", "0")
		cmd.Env = append(env, "JWT_SECRET="+tc.secret, "DATABASE_URL=postgres://nobody@127.0.0.1:1/none", "REDIS_URL=redis://127.0.0.1:1/0")
		if tc.command == "dev" {
			cmd.Args = append(cmd.Args, "-data-dir", t.TempDir())
		}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(string(out), tc.says) || !strings.Contains(string(out), "openssl rand -hex 32") {
			t.Errorf("%s with JWT_SECRET=%q: %v, %s; want exit %d saying %q and how to make a secret", tc.command, tc.secret, err, out, exitUsage, tc.says)
		}
		if tc.secret != "" && strings.Contains(string(out), tc.secret) {
			t.Errorf("%s prints the secret it refused: %s", tc.command, out)
		}
	}
}
