package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/axontask/axontask/internal/secretscan"
)

// bearers holds the credential the tests send to each server, by host.
var bearers sync.Map

// bearerTransport adds the Authorization header of the request's host, so
// that the tests' plain HTTP calls act as a user.
type bearerTransport struct{}

func (bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok, ok := bearers.Load(r.URL.Host); ok && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+tok.(string))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func init() { http.DefaultClient.Transport = bearerTransport{} }

// authorize makes the tests' requests to base carry bearer.
func authorize(t *testing.T, base, bearer string) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	bearers.Store(u.Host, bearer)
}

// register creates a user and tenant on the server at base and returns an
// access token.
func register(t *testing.T, base, email string) string {
	t.Helper()
	body := `{"email":"` + email + `","password":"correct horse battery","tenant_name":"tests"}`
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/auth/register", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusCreated || tok.AccessToken == "" {
		t.Fatalf("register: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// testPasswords are the passwords the tests use; no log may hold them.
var testPasswords = []string{"correct horse battery", "wrong password"}

// processLogs returns where a process started by a test writes its log:
// searched for secrets when the test ends, and shown with -v.
func processLogs(t *testing.T) io.Writer {
	scan := secretscan.New(t, testPasswords...)
	if testing.Verbose() {
		return io.MultiWriter(scan, os.Stderr)
	}
	return scan
}
