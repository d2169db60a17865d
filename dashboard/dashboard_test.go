package dashboard

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
)

// A sealed session opens with the same key only; a changed cookie, another
// key or garbage opens as a fresh anonymous session.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, 32)
	c, err := newSealer(key, true)
	if err != nil {
		t.Fatal(err)
	}
	in := &session{CSRF: "token", Access: "access", Refresh: "refresh", Expires: 42, Email: "a@example.com", Tenant: "t"}
	w := httptest.NewRecorder()
	c.save(w, in)
	cookie := w.Result().Cookies()[0]
	if !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Fatalf("cookie %+v", cookie)
	}
	if strings.Contains(cookie.Value, "access") || strings.Contains(cookie.Value, "refresh") {
		t.Fatal("the cookie shows its tokens")
	}
	open := func(c *sealer, value string) *session {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: value})
		s, opened := c.open(r)
		if opened != (s.CSRF == in.CSRF) {
			t.Errorf("opened %v for %+v", opened, s)
		}
		return s
	}
	if got := open(c, cookie.Value); *got != *in {
		t.Fatalf("opened %+v, want %+v", got, in)
	}
	other, _ := newSealer(bytes.Repeat([]byte{8}, 32), true)
	flipped := []byte(cookie.Value)
	flipped[len(flipped)/2] ^= 1
	for name, s := range map[string]*session{
		"another key": open(other, cookie.Value),
		"flipped":     open(c, string(flipped)),
		"garbage":     open(c, "not a cookie"),
		"too long":    open(c, strings.Repeat("A", maxCookieBytes+1)),
	} {
		if s.signedIn() || s.CSRF == "" || s.CSRF == in.CSRF {
			t.Errorf("%s: opened %+v, want a fresh anonymous session", name, s)
		}
	}
	if _, err := newSealer(key[:16], false); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

// The CSRF token is checked in the form and in the header, in constant
// time, and an empty one never matches.
func TestCheckCSRF(t *testing.T) {
	t.Parallel()
	s := &session{CSRF: "right"}
	post := func(form, header string) *http.Request {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/keys", strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if header != "" {
			r.Header.Set(CSRFHeader, header)
		}
		return r
	}
	for _, tc := range []struct {
		form, header string
		ok           bool
	}{
		{"csrf=right", "", true},
		{"", "right", true},
		{"csrf=wrong", "", false},
		{"", "", false},
		{"csrf=right", "wrong", false},
	} {
		if got := s.checkCSRF(post(tc.form, tc.header)); got != tc.ok {
			t.Errorf("form %q header %q: %v", tc.form, tc.header, got)
		}
	}
	if (&session{}).checkCSRF(post("csrf=", "")) {
		t.Error("an empty token matched an empty session")
	}
}

// After sign-in, the browser goes to a path of this site only.
func TestSafeNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/tasks/1?x=y": "/tasks/1?x=y", "": "/", "//evil.example/": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "javascript:alert(1)": "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// The start form has an input per argument of each adapter's schema, with
// the adapter's defaults, and turns what is posted back into args.
func TestArgsForm(t *testing.T) {
	t.Parallel()
	mock, err := argFields(domain.AdapterMock)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]argField{}
	for _, f := range mock {
		byName[f.Name] = f
	}
	if f := byName["steps"]; f.Kind != kindNumber || f.Value != "10" {
		t.Fatalf("mock's steps: %+v", f)
	}
	shell, err := argFields(domain.AdapterShell)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, f := range shell {
		kinds[f.Name] = f.Kind
	}
	if kinds["command"] != kindLines || kinds["cwd"] != kindText || kinds["env"] != kindJSON {
		t.Fatalf("shell's kinds: %v", kinds)
	}
	for _, a := range adapters {
		if _, err := argFields(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
	if _, err := argFields("nope"); err == nil {
		t.Error("an unknown adapter has a form")
	}

	form := map[string]string{"args.command": "sh\r\n-c\r\necho hi\r\n", "args.cwd": "", "args.env": `{"K": "V"}`}
	args, err := argsOf(shell, func(k string) string { return form[k] })
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"command":["sh","-c","echo hi"],"env":{"K":"V"}}`; string(args) != want {
		t.Fatalf("args %s, want %s", args, want)
	}
	if _, err := domain.ParseArgs(domain.AdapterShell, args); err != nil {
		t.Fatalf("the adapter refuses the form's args: %v", err)
	}

	for input, want := range map[string]string{"args.steps": "args.steps", "args.env": "args.env"} {
		fields := mock
		if input == "args.env" {
			fields = shell
		}
		_, err := argsOf(fields, func(k string) string {
			if k == input {
				return "{not"
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v does not name it", input, err)
		}
	}
}

// A request the browser has left is neither answered nor logged: its API
// call fails only because nobody waits for it any more (the in-process API
// answers such a call with nothing, which the SDK cannot decode). The same
// failure on a live request is a logged 500.
func TestFailForABrowserThatLeft(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	d := &dashboard{pages: pages, logger: slog.New(slog.NewTextHandler(&logs, nil))}
	failure := errors.New("GET /v1/tasks: decode the answer: unexpected end of JSON input")
	ctx, leave := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, &reqState{s: &session{}}))
	leave()
	rec := httptest.NewRecorder()
	d.fail(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil), failure)
	if rec.Body.Len() != 0 || logs.Len() != 0 {
		t.Fatalf("for a browser that left: answered %d %q, logged %q", rec.Code, rec.Body.String(), logs.String())
	}
	rec = httptest.NewRecorder()
	d.fail(rec, httptest.NewRequestWithContext(context.WithValue(t.Context(), ctxKey{}, &reqState{s: &session{}}), http.MethodGet, "/", nil), failure)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("for a browser still there: answered %d, logged %q", rec.Code, logs.String())
	}
}
