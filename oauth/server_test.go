package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/oauth"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// members is the tenant's membership: every user is a member.
type members struct{}

func (members) MemberRole(context.Context, string, string) (domain.Role, error) {
	return domain.RoleMember, nil
}

// bundle is a server on a fresh store, over HTTP.
type bundle struct {
	t      *testing.T
	s      *oauth.Server
	issuer *auth.Issuer
	srv    *httptest.Server
}

func setup(t *testing.T, store eventstore.OAuthStore) *bundle {
	t.Helper()
	ring, err := auth.NewKeyring("k1", map[string][]byte{"k1": []byte(strings.Repeat("s", 32))})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewIssuer(auth.IssuerConfig{Keys: ring, Issuer: "axontask", Audience: "axontask-api", Expiry: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s, err := oauth.New(oauth.Config{Store: store, Issuer: issuer, Members: members{}})
	if err != nil {
		t.Fatal(err)
	}
	b := &bundle{t: t, s: s, issuer: issuer}
	b.srv = httptest.NewServer(s.Handler(http.NotFoundHandler()))
	t.Cleanup(b.srv.Close)
	return b
}

// post posts body of contentType to the server's path.
func (b *bundle) post(path, contentType, body string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, b.srv.URL+path, strings.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return http.DefaultClient.Do(req)
}

func (b *bundle) register(body string) (int, map[string]any) {
	b.t.Helper()
	resp, err := b.post(oauth.RegisterPath, "application/json", body)
	if err != nil {
		b.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestRegistrationLimits: bad client metadata is refused naming what to
// fix, and registrations from one address are rate limited.
func TestRegistrationLimits(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, store teststores.Store) {
		b := setup(t, store)
		for _, c := range []struct{ name, body, code string }{
			{"not JSON", `[`, "invalid_client_metadata"},
			{"no redirect URI", `{"redirect_uris":[]}`, "invalid_redirect_uri"},
			{"too many", `{"redirect_uris":["https://a/1","https://a/2","https://a/3","https://a/4","https://a/5","https://a/6"]}`, "invalid_redirect_uri"},
			{"too long", `{"redirect_uris":["https://a/` + strings.Repeat("x", oauth.MaxURILen) + `"]}`, "invalid_redirect_uri"},
			{"plain http", `{"redirect_uris":["http://app.example/cb"]}`, "invalid_redirect_uri"},
			{"fragment", `{"redirect_uris":["https://app.example/cb#x"]}`, "invalid_redirect_uri"},
			{"relative", `{"redirect_uris":["/cb"]}`, "invalid_redirect_uri"},
			{"secret client", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}`, "invalid_client_metadata"},
			{"implicit", `{"redirect_uris":["https://app.example/cb"],"response_types":["token"]}`, "invalid_client_metadata"},
			{"long name", `{"redirect_uris":["https://app.example/cb"],"client_name":"` + strings.Repeat("n", oauth.MaxClientNameLen+1) + `"}`, "invalid_client_metadata"},
		} {
			if status, out := b.register(c.body); status != http.StatusBadRequest || out["error"] != c.code || out["error_description"] == "" {
				t.Errorf("%s: %d %v, want 400 %s", c.name, status, out, c.code)
			}
		}
		// The refusals above count too: the limit is per address.
		limited := false
		for range oauth.RegistrationsPerMinute {
			status, out := b.register(`{"redirect_uris":["http://127.0.0.1:7/cb","http://[::1]/cb","https://app.example/cb"]}`)
			if status == http.StatusTooManyRequests {
				limited = true
				break
			}
			if status != http.StatusCreated || out["client_id"] == "" || out["token_endpoint_auth_method"] != "none" {
				t.Fatalf("registration answered %d %v", status, out)
			}
		}
		if !limited {
			t.Fatalf("%d registrations a minute from one address were all accepted", oauth.RegistrationsPerMinute+10)
		}
	})
}

// TestAuthorizeRefusals: a request from an unknown client or to an
// unregistered redirect URI is shown, never redirected; other faults go
// back to the client with the error.
func TestAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, store teststores.Store) {
		b := setup(t, store)
		_, reg := b.register(`{"client_name":"App","redirect_uris":["https://app.example/cb"]}`)
		id := reg["client_id"].(string)
		sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
		good := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {"https://app.example/cb"}, "state": {"s"},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {b.srv.URL + "/mcp"}}
		with := func(k, v string) url.Values {
			q := url.Values{}
			for kk, vv := range good {
				q[kk] = vv
			}
			if v == "" {
				q.Del(k)
			} else {
				q.Set(k, v)
			}
			return q
		}
		for _, c := range []struct {
			name  string
			q     url.Values
			error string // "" means shown, not redirected
		}{
			{"unknown client", with("client_id", "nope"), ""},
			{"other redirect", with("redirect_uri", "https://evil.example/cb"), ""},
			{"no PKCE", with("code_challenge", ""), "invalid_request"},
			{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request"},
			{"implicit", with("response_type", "token"), "unsupported_response_type"},
			{"other resource", with("resource", "https://other.example/mcp"), "invalid_target"},
			{"unknown scope", with("scope", "tasks:read everything"), "invalid_scope"},
		} {
			r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+oauth.AuthorizePath+"?"+c.q.Encode(), nil)
			_, err := b.s.Check(r)
			var refusal *oauth.AuthorizeError
			ok := errors.As(err, &refusal)
			switch {
			case !ok:
				t.Errorf("%s: Check = %v, want an *AuthorizeError", c.name, err)
			case c.error == "" && refusal.Redirect != "":
				t.Errorf("%s: redirected to %s, want the error shown", c.name, refusal.Redirect)
			case c.error != "":
				u, _ := url.Parse(refusal.Redirect)
				if !strings.HasPrefix(refusal.Redirect, "https://app.example/cb?") || u.Query().Get("error") != c.error || u.Query().Get("state") != "s" {
					t.Errorf("%s: redirected to %q, want error %s with the state", c.name, refusal.Redirect, c.error)
				}
			}
		}
		r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+oauth.AuthorizePath+"?"+good.Encode(), nil)
		req, err := b.s.Check(r)
		if err != nil || req.ClientName != "App" || req.Scope != oauth.DefaultScope || req.Resource != b.srv.URL+"/mcp" {
			t.Fatalf("Check of a good request = %+v, %v", req, err)
		}
	})
}

// TestRevokeEndpoint: RFC 7009 revocation with a grant's current refresh
// token ends its family; unknown tokens answer 200, and so do a token made
// up around the grant's id and one rotated away, which revoke nothing;
// CORS preflights are answered.
func TestRevokeEndpoint(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, store teststores.Store) {
		b := setup(t, store)
		_, reg := b.register(`{"redirect_uris":["https://app.example/cb"]}`)
		verifier := strings.Repeat("v", 43)
		sum := sha256.Sum256([]byte(verifier))
		q := url.Values{"response_type": {"code"}, "client_id": {reg["client_id"].(string)}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
		r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+oauth.AuthorizePath+"?"+q.Encode(), nil)
		req, err := b.s.Check(r)
		if err != nil {
			t.Fatal(err)
		}
		session, _, err := b.issuer.Issue("u1", "t1", domain.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		loc, err := b.s.Approve(t.Context(), session, req)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(loc)
		token := func(form url.Values) (int, map[string]any) {
			form.Set("client_id", reg["client_id"].(string))
			resp, err := b.post(oauth.TokenPath, "application/x-www-form-urlencoded", form.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		status, tok := token(url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {"https://app.example/cb"}})
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %v", status, tok)
		}
		if c, err := b.issuer.VerifyDelegated(tok["access_token"].(string), b.srv.URL+"/mcp"); err != nil || c.UserID != "u1" || c.TenantID != "t1" {
			t.Fatalf("the access token: %+v, %v", c, err)
		}
		revoke := func(v string) {
			t.Helper()
			resp, err := b.post(oauth.RevokePath, "application/x-www-form-urlencoded", url.Values{"token": {v}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke %s: %d", v[:5], resp.StatusCode)
			}
		}
		// Tokens that are not the grant's current one answer 200 and
		// revoke nothing: one made up around the grant's id (which is no
		// secret), and the first token once rotated away.
		first := tok["refresh_token"].(string)
		id, _, _ := strings.Cut(first, ".")
		revoke("not-a-token")
		revoke(id + "." + strings.Repeat("A", 43))
		status, tok = token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}})
		if status != http.StatusOK {
			t.Fatalf("refresh after a made-up token's revocation: %d %v; the grant must stay in force", status, tok)
		}
		revoke(first)
		current := tok["refresh_token"].(string)
		status, tok = token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {current}})
		if status != http.StatusOK {
			t.Fatalf("refresh after a rotated-away token's revocation: %d %v; the grant must stay in force", status, tok)
		}
		// The current token revokes the grant.
		revoke(tok["refresh_token"].(string))
		if status, out := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Fatalf("refresh after revocation: %d %v", status, out)
		}
		pre, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, b.srv.URL+oauth.TokenPath, nil)
		pre.Header.Set("Origin", "http://localhost:6274")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(pre)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("CORS preflight: %d %v", resp.StatusCode, resp.Header)
		}
		if status, out := token(url.Values{"grant_type": {"password"}}); status != http.StatusBadRequest || out["error"] != "unsupported_grant_type" {
			t.Fatalf("a password grant: %d %v", status, out)
		}
	})
}

// TestLoopbackRedirectAnyPort: a loopback redirect URI is accepted on any
// port (RFC 8252 section 7.3), since a desktop client listens where it
// can; its scheme, host, path and query must match, and other redirect
// URIs match exactly.
func TestLoopbackRedirectAnyPort(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, store teststores.Store) {
		b := setup(t, store)
		_, reg := b.register(`{"client_name":"Desktop","redirect_uris":["http://127.0.0.1:7/cb","http://[::1]/cb?x=1","https://app.example/cb"]}`)
		sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
		for _, c := range []struct {
			redirect string
			ok       bool
		}{
			{"http://127.0.0.1:7/cb", true},
			{"http://127.0.0.1:51234/cb", true},
			{"http://127.0.0.1/cb", true},
			{"http://[::1]:8080/cb?x=1", true},
			{"http://127.0.0.1:51234/other", false},
			{"http://127.0.0.1:51234/cb?x=1", false},
			{"http://localhost:51234/cb", false},
			{"http://[::1]:8080/cb", false},
			{"https://127.0.0.1:51234/cb", false},
			{"https://app.example:8443/cb", false},
			{"http://127.0.0.1:51234/cb#frag", false},
		} {
			q := url.Values{"response_type": {"code"}, "client_id": {reg["client_id"].(string)}, "redirect_uri": {c.redirect},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
			r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+oauth.AuthorizePath+"?"+q.Encode(), nil)
			req, err := b.s.Check(r)
			var refusal *oauth.AuthorizeError
			switch {
			case c.ok && (err != nil || req.RedirectURI != c.redirect):
				t.Errorf("%s: Check = %+v, %v; want it accepted", c.redirect, req, err)
			case !c.ok && (!errors.As(err, &refusal) || refusal.Redirect != ""):
				t.Errorf("%s: Check = %v; want it refused without a redirect", c.redirect, err)
			}
		}
	})
}

// TestRefreshRefusalsEndTheGrant: a refresh with another client_id or
// resource is refused and revokes the grant (its token was rotated away
// and no successor sent): the user's connected applications no longer list
// it, and the token does not work again.
func TestRefreshRefusalsEndTheGrant(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, store teststores.Store) {
		b := setup(t, store)
		_, reg := b.register(`{"redirect_uris":["https://app.example/cb"]}`)
		clientID := reg["client_id"].(string)
		session, _, err := b.issuer.Issue("u1", "t1", domain.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		token := func(form url.Values) (int, map[string]any) {
			resp, err := b.post(oauth.TokenPath, "application/x-www-form-urlencoded", form.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = resp.Body.Close() }()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		for _, c := range []struct {
			name  string
			form  url.Values
			error string
		}{
			{"another client", url.Values{"client_id": {"another"}}, "invalid_grant"},
			{"another resource", url.Values{"client_id": {clientID}, "resource": {"https://other.example/mcp"}}, "invalid_target"},
		} {
			verifier := strings.Repeat("v", 43)
			sum := sha256.Sum256([]byte(verifier))
			q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
			req, err := b.s.Check(httptest.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+oauth.AuthorizePath+"?"+q.Encode(), nil))
			if err != nil {
				t.Fatal(err)
			}
			loc, err := b.s.Approve(t.Context(), session, req)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(loc)
			status, tok := token(url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "code": {u.Query().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {"https://app.example/cb"}})
			if status != http.StatusOK {
				t.Fatalf("%s: exchange: %d %v", c.name, status, tok)
			}
			if grants, err := b.s.Grants(t.Context(), session); err != nil || len(grants) != 1 {
				t.Fatalf("%s: grants before the refresh: %v, %v", c.name, grants, err)
			}
			form := c.form
			form.Set("grant_type", "refresh_token")
			form.Set("refresh_token", tok["refresh_token"].(string))
			if status, out := token(form); status != http.StatusBadRequest || out["error"] != c.error {
				t.Errorf("%s: %d %v, want 400 %s", c.name, status, out, c.error)
			}
			if grants, err := b.s.Grants(t.Context(), session); err != nil || len(grants) != 0 {
				t.Errorf("%s: grants after the refused refresh: %v, %v; want none", c.name, grants, err)
			}
			status, out := token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {tok["refresh_token"].(string)}})
			if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
				t.Errorf("%s: the token again: %d %v", c.name, status, out)
			}
		}
	})
}
