package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/internal/testnode"
	"github.com/axontask/axontask/mcpserver"
	"github.com/axontask/axontask/oauth"
)

// oauthFlow is an OAuth client of a dev process, signed in to its
// dashboard as the dev user.
type oauthFlow struct {
	t        *testing.T
	d        *dashboardHTTP
	clientID string
	redirect string
}

// newOAuthFlow signs in to dev's dashboard and registers a client.
func newOAuthFlow(t *testing.T, dev *devProc) *oauthFlow {
	t.Helper()
	var creds devCredentials
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dev.dataDir, "dev-credentials.json"))), &creds); err != nil {
		t.Fatal(err)
	}
	d := &dashboardHTTP{t: t, base: dev.base, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if resp, _ := d.send(http.MethodPost, "/login", "", url.Values{"csrf": {d.csrf("/login")}, "email": {creds.Email}, "password": {creds.Password}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in answered %d", resp.StatusCode)
	}
	f := &oauthFlow{t: t, d: d, redirect: "http://127.0.0.1:9/callback"}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	status := f.postJSON(oauth.RegisterPath, `{"client_name":"Test client","redirect_uris":["`+f.redirect+`"]}`, &reg)
	if status != http.StatusCreated || reg.ClientID == "" {
		t.Fatalf("registration answered %d, %+v", status, reg)
	}
	f.clientID = reg.ClientID
	return f
}

func (f *oauthFlow) postJSON(path, body string, out any) int {
	f.t.Helper()
	resp, err := postBody(f.t, f.d.base+path, "application/json", body)
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && resp.StatusCode != http.StatusOK {
		f.t.Fatalf("POST %s: %d, %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// authorize approves an authorization request for resource with the
// challenge of verifier, through the consent page, and returns the code.
func (f *oauthFlow) authorize(verifier, resource string) string {
	f.t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {f.clientID}, "redirect_uri": {f.redirect}, "state": {"st"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {resource}}
	path := oauth.AuthorizePath + "?" + q.Encode()
	resp, page := f.d.send(http.MethodGet, path, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Test client") || !strings.Contains(page, "tasks:write") {
		f.t.Fatalf("the consent page answered %d: %s", resp.StatusCode, page)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9") {
		f.t.Errorf("the consent page's policy %q does not let the form go back to the client", csp)
	}
	// Without the session's CSRF token, nothing is granted.
	if resp, _ := f.d.send(http.MethodPost, path, "", url.Values{"decision": {"approve"}}); resp.StatusCode != http.StatusForbidden {
		f.t.Fatalf("an approval without CSRF token answered %d, want 403", resp.StatusCode)
	}
	resp, _ = f.d.send(http.MethodPost, path, "", url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "decision": {"approve"}})
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), f.redirect+"?") || loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
		f.t.Fatalf("the approval answered %d to %q", resp.StatusCode, loc)
	}
	return loc.Query().Get("code")
}

// tokenAnswer is the token endpoint's answer.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

func (f *oauthFlow) token(form url.Values) (int, tokenAnswer) {
	f.t.Helper()
	form.Set("client_id", f.clientID)
	resp, err := postBody(f.t, f.d.base+oauth.TokenPath, "application/x-www-form-urlencoded", form.Encode())
	if err != nil {
		f.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var a tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, a
}

func (f *oauthFlow) exchange(code, verifier string) (int, tokenAnswer) {
	return f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {f.redirect}})
}

func (f *oauthFlow) refresh(rt string) (int, tokenAnswer) {
	return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// postBody posts body of contentType to u.
func postBody(t *testing.T, u, contentType, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return http.DefaultClient.Do(req)
}

// mcpStatus answers the status of an MCP initialize at base's /mcp with
// token, and its WWW-Authenticate.
func mcpStatus(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+mcpserver.Path,
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// TestOAuthForMCP: an MCP client signs a user in through OAuth against a
// dev process: discovery from /mcp's 401, registration, the consent page
// (signed in, CSRF-protected), the code exchange with PKCE, a tool call
// with the token, and refresh rotation. Refused: a wrong PKCE verifier
// (the code is spent), a replayed code (its tokens are revoked), a token
// for another resource, a reused refresh token (the family is revoked),
// and a token revoked from the dashboard's connected applications page.
func TestOAuthForMCP(t *testing.T) {
	t.Parallel()
	dev := startDev(t, nil)
	resource := dev.base + mcpserver.Path

	// Discovery: the 401 points to the resource's metadata, which points
	// to this server's metadata.
	status, challenge := mcpStatus(t, dev.base, "")
	metadataURL := dev.base + oauth.ResourceMetadataPath + mcpserver.Path
	if status != http.StatusUnauthorized || !strings.Contains(challenge, `resource_metadata="`+metadataURL+`"`) || !strings.Contains(challenge, `scope="`+oauth.DefaultScope+`"`) {
		t.Fatalf("/mcp without a token answered %d, %q", status, challenge)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	getJSON(t, metadataURL, &prm)
	if prm.Resource != resource || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != dev.base {
		t.Fatalf("resource metadata %+v", prm)
	}
	var asm struct {
		Issuer     string   `json:"issuer"`
		Token      string   `json:"token_endpoint"`
		Methods    []string `json:"code_challenge_methods_supported"`
		Registrate string   `json:"registration_endpoint"`
	}
	getJSON(t, dev.base+oauth.ServerMetadataPath, &asm)
	if asm.Issuer != dev.base || asm.Token != dev.base+oauth.TokenPath || len(asm.Methods) != 1 || asm.Methods[0] != "S256" || asm.Registrate != dev.base+oauth.RegisterPath {
		t.Fatalf("server metadata %+v", asm)
	}

	f := newOAuthFlow(t, dev)
	const verifier = "a-code-verifier-of-at-least-forty-three-characters-0123456789"

	// A wrong verifier: refused, and the code is spent.
	code := f.authorize(verifier, resource)
	if status, a := f.exchange(code, verifier+"x"); status != http.StatusBadRequest || a.Error != "invalid_grant" {
		t.Fatalf("a wrong PKCE verifier answered %d %+v", status, a)
	}
	if status, a := f.exchange(code, verifier); status != http.StatusBadRequest || a.Error != "invalid_grant" {
		t.Fatalf("the code after a wrong verifier answered %d %+v", status, a)
	}

	// The flow, and a tool call with the token.
	code = f.authorize(verifier, resource)
	status, tok := f.exchange(code, verifier)
	if status != http.StatusOK || tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Scope != oauth.DefaultScope {
		t.Fatalf("the code exchange answered %d %+v", status, tok)
	}
	callTool(t, dev.base, tok.AccessToken)
	// The token is /mcp's only: the API refuses it.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, dev.base+"/v1/tasks", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API answered the MCP token with %d; want 401", resp.StatusCode)
	}

	// A replayed code: refused, and the tokens issued from it revoked.
	if status, a := f.exchange(code, verifier); status != http.StatusBadRequest || a.Error != "invalid_grant" {
		t.Fatalf("a replayed code answered %d %+v", status, a)
	}
	if status, a := f.refresh(tok.RefreshToken); status != http.StatusBadRequest || a.Error != "invalid_grant" {
		t.Fatalf("the refresh token of a replayed code answered %d %+v", status, a)
	}
	if status, challenge := mcpStatus(t, dev.base, tok.AccessToken); status != http.StatusUnauthorized || !strings.Contains(challenge, "invalid_token") {
		t.Fatalf("the access token of a replayed code at /mcp answered %d %q; want it refused at once", status, challenge)
	}

	// Rotation: each refresh token works once; a reused one revokes the
	// family, the newest token included.
	code = f.authorize(verifier, resource)
	_, tok = f.exchange(code, verifier)
	status, next := f.refresh(tok.RefreshToken)
	if status != http.StatusOK || next.RefreshToken == tok.RefreshToken || next.AccessToken == "" {
		t.Fatalf("a refresh answered %d %+v", status, next)
	}
	callTool(t, dev.base, next.AccessToken)
	if status, a := f.refresh(tok.RefreshToken); status != http.StatusBadRequest || a.Error != "invalid_grant" || !strings.Contains(a.Description, "revoked") {
		t.Fatalf("a reused refresh token answered %d %+v", status, a)
	}
	if status, a := f.refresh(next.RefreshToken); status != http.StatusBadRequest || a.Error != "invalid_grant" {
		t.Fatalf("the family's newest token after a reuse answered %d %+v", status, a)
	}

	// A token for another resource (this server under another name) is
	// refused at /mcp.
	other := strings.Replace(dev.base, "127.0.0.1", "localhost", 1)
	otherFlow := &oauthFlow{t: t, d: &dashboardHTTP{t: t, base: other, hc: f.d.hc}, clientID: f.clientID, redirect: f.redirect}
	otherFlow.d.cookie = f.d.cookie
	code = otherFlow.authorize(verifier, other+mcpserver.Path)
	status, foreign := otherFlow.exchange(code, verifier)
	if status != http.StatusOK {
		t.Fatalf("the exchange at %s answered %d %+v", other, status, foreign)
	}
	if status, challenge := mcpStatus(t, dev.base, foreign.AccessToken); status != http.StatusUnauthorized || !strings.Contains(challenge, "invalid_token") {
		t.Fatalf("a token for %s/mcp at %s answered %d %q", other, resource, status, challenge)
	}
	if status, _ := mcpStatus(t, other, foreign.AccessToken); status != http.StatusOK {
		t.Fatalf("the token at its own resource answered %d", status)
	}

	// The dashboard's navigation leads to the connected applications
	// page, which lists the authorization and revokes it.
	if _, page := f.d.send(http.MethodGet, "/keys", "", nil); !strings.Contains(page, `<a href="/apps">`) {
		t.Errorf("the navigation leads to no connected applications page: %s", page)
	}
	apps, page := f.d.send(http.MethodGet, "/apps", "", nil)
	if apps.StatusCode != http.StatusOK || strings.Count(page, "data-app-id=") != 1 || !strings.Contains(page, "Test client") || !strings.Contains(page, `<a href="/apps" aria-current="page">`) {
		t.Fatalf("the connected applications page answered %d: %s", apps.StatusCode, page)
	}
	id := strings.SplitN(strings.SplitN(page, `data-app-id="`, 2)[1], `"`, 2)[0]
	if resp, _ := f.d.send(http.MethodPost, "/apps/"+id+"/revoke", "", url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke answered %d", resp.StatusCode)
	}
	if status, a := otherFlow.refresh(foreign.RefreshToken); status != http.StatusBadRequest || a.Error != "invalid_grant" {
		t.Fatalf("a refresh after revocation answered %d %+v", status, a)
	}
	if status, challenge := mcpStatus(t, other, foreign.AccessToken); status != http.StatusUnauthorized || !strings.Contains(challenge, "invalid_token") {
		t.Fatalf("the access token after revocation at /mcp answered %d %q; want it refused at once", status, challenge)
	}

	// Registration limits: a redirect URI that is neither https nor
	// loopback http.
	var e tokenAnswer
	if status := f.postJSON(oauth.RegisterPath, `{"redirect_uris":["http://evil.example/cb"]}`, &e); status != http.StatusBadRequest || e.Error != "invalid_redirect_uri" {
		t.Fatalf("a plain http redirect URI answered %d %+v", status, e)
	}
}

// callTool starts a mock task through /mcp with token, the way an MCP
// client does after its OAuth sign-in.
func callTool(t *testing.T, base, token string) {
	t.Helper()
	transport := &mcp.StreamableClientTransport{Endpoint: base + mcpserver.Path, HTTPClient: &http.Client{Transport: headerTransport{"Authorization", "Bearer " + token}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "axontask-tests", Version: "v0.0.1"}, nil).Connect(t.Context(), transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Close() }()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "start_task", Arguments: map[string]any{"name": "oauth", "adapter": "mock", "args": map[string]any{"steps": 1}}})
	if err != nil || res.IsError {
		t.Fatalf("start_task with an OAuth token: %v, %+v", err, res)
	}
}

// The official TypeScript MCP SDK's OAuth client signs a user in against a
// dev process, with the sign-in and consent pages driven by Chromium, then
// calls tools with its token, refreshes it (rotation) and calls again (see
// testdata/mcp-ts/oauth.mjs). It needs Node.js and Chromium; without them
// it skips, except in CI.
func TestOAuthTypeScriptClientInBrowser(t *testing.T) {
	t.Parallel()
	node := testnode.Node(t, tsClientDir, "the TypeScript MCP OAuth client test")
	browserPath := chromium(t)
	dev := startDev(t, nil)
	var creds devCredentials
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dev.dataDir, "dev-credentials.json"))), &creds); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "oauth.mjs")
	cmd.Dir = tsClientDir
	cmd.Env = append(os.Environ(), "AXONTASK_URL="+dev.base)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		_ = cmd.Wait()
		t.Fatalf("node oauth.mjs printed no authorization URL\nstderr:\n%s", stderr.String())
	}
	var first struct {
		Authorize string `json:"authorize"`
	}
	if err := json.Unmarshal(lines.Bytes(), &first); err != nil || !strings.HasPrefix(first.Authorize, dev.base+oauth.AuthorizePath+"?") {
		t.Fatalf("node oauth.mjs printed %q, want {\"authorize\": %s…}", lines.Text(), dev.base+oauth.AuthorizePath)
	}

	// The browser signs in on the way and approves on the consent page.
	b := newBrowser(t, browserPath)
	if err := chromedp.Do(b, chromedp.Navigate(first.Authorize)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the sign-in form", `location.pathname === "/login"`)
	if err := chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), creds.Email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), creds.Password+kb.Enter),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, b, "the consent page", `location.pathname === "/oauth/authorize" && !!document.querySelector("#scopes")?.textContent.includes("tasks:write") && document.body.textContent.includes("TypeScript SDK test client")`)
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatal(err)
	}
	pages := &dashboardBrowser{t: t, ctx: b, base: dev.base, axe: string(axe)}
	pages.checkPage("the consent page")
	pages.tabTo(`#approve`)
	pages.do("approve with Enter", chromedp.KeyEvent(kb.Enter))
	waitJS(t, b, "the client's callback page", `document.querySelector("#done") !== null`)

	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node oauth.mjs: %v\nlast line: %s\nstderr:\n%s", err, last, stderr.String())
	}
	var seen struct {
		Unauthorized bool     `json:"unauthorized"`
		Iss          string   `json:"iss"`
		Scope        string   `json:"scope"`
		Tools        []string `json:"tools"`
		Tasks        []string `json:"tasks"`
		Refresh      string   `json:"refresh"`
		Rotated      bool     `json:"rotated"`
	}
	if err := json.Unmarshal([]byte(last), &seen); err != nil {
		t.Fatalf("node oauth.mjs's summary %q: %v", last, err)
	}
	t.Logf("TypeScript SDK OAuth client: %s", last)
	pages.visit("/apps", http.StatusOK) // connected applications, signed in on the way
	if !seen.Unauthorized || seen.Iss != dev.base || seen.Scope != oauth.DefaultScope || !slices.Contains(seen.Tools, "start_task") ||
		len(seen.Tasks) != 2 || seen.Tasks[0] == "" || seen.Tasks[1] == "" || seen.Refresh != "AUTHORIZED" || !seen.Rotated {
		t.Fatalf("the TypeScript client saw %+v", seen)
	}
}

// The worked example of docs/mcp-auth.md runs as pasted, in one shell:
// discovery, registration, PKCE and the authorization link; then, with the
// code the test's browser stand-in approves through the consent page (the
// reader's browser step), the code exchange, a tool call, the REST API's
// refusal, the refresh, the reused refresh token revoking the family, and
// revocation.
func TestOAuthDocCurlFlowRuns(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("docs/mcp-auth.md's example needs %s: apt-get install -y %s", tool, tool)
		}
	}
	const doc = "../../docs/mcp-auth.md"
	const codeLine = "CODE='axr_…'   # from the address bar\n"
	first := docBlock(t, doc, "## A whole sign-in with curl")
	second := docBlock(t, doc, "Nothing listens there")
	if !strings.Contains(second, codeLine) {
		t.Fatalf("the second block of %s has no line %q", doc, codeLine)
	}
	dev := startDev(t, nil)
	f := newOAuthFlow(t, dev) // signed in to the dashboard
	hostPort := strings.TrimPrefix(dev.base, "http://")
	script := first + strings.Replace(second, codeLine, "read -r CODE\n", 1)
	script = strings.ReplaceAll(script, "127.0.0.1:8080", hostPort)
	script = strings.ReplaceAll(script, "127.0.0.1%3A8080", url.QueryEscape(hostPort))

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", "set -eo pipefail\n"+script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	var link string
	for link == "" && lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if strings.HasPrefix(lines.Text(), dev.base+oauth.AuthorizePath+"?") {
			link = lines.Text()
		}
	}
	if link == "" {
		_ = cmd.Wait()
		t.Fatalf("the example printed no authorization link\nstdout:\n%s\nstderr:\n%s", out.String(), stderr.String())
	}

	// The browser: the consent page, Allow, and the code in the address
	// the browser is sent to.
	path := strings.TrimPrefix(link, dev.base)
	resp, page := f.d.send(http.MethodGet, path, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Authorize curl") {
		t.Fatalf("the consent page answered %d: %s", resp.StatusCode, page)
	}
	resp, _ = f.d.send(http.MethodPost, path, "", url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "decision": {"approve"}})
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), "http://127.0.0.1:8765/callback?") || loc.Query().Get("state") != "xyz" || loc.Query().Get("iss") != dev.base {
		t.Fatalf("the approval answered %d to %q", resp.StatusCode, loc)
	}
	if _, err := io.WriteString(stdin, loc.Query().Get("code")+"\n"); err != nil {
		t.Fatal(err)
	}
	_ = stdin.Close()
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out.String(), stderr.String())
	}
	got := out.String()
	for _, want := range []string{
		`resource_metadata="` + dev.base + oauth.ResourceMetadataPath + mcpserver.Path + `", scope="tasks:read tasks:write"`,
		`"resource":"` + dev.base + mcpserver.Path + `"`,
		`"token_endpoint_auth_method":"none"`,
		`"scope":"tasks:read tasks:write","token_type":"Bearer"`,
		`Started task `,
		`the token is meant for another audience`,
		`so it may have leaked: this authorization is revoked`,
		`the refresh token is unknown, expired or revoked`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the example's output lacks %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "\n200\n") {
		t.Errorf("the revocation did not answer 200:\n%s", got)
	}
}
