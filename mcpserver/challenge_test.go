package mcpserver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/mcpserver"
)

// refuseAll refuses every credential.
type refuseAll struct{}

func (refuseAll) Authenticate(context.Context, string) (commands.Principal, error) {
	return commands.Principal{}, fmt.Errorf("%w: refused", commands.ErrUnauthenticated)
}

// With OAuth on, a 401's challenge names the resource's metadata and the
// scopes the tools need (RFC 6750 section 3's scope, which the MCP
// authorization specification has clients ask for), with and without a
// credential; without OAuth it names neither.
func TestChallengeNamesOAuthMetadataAndScope(t *testing.T) {
	t.Parallel()
	server := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	const metadata = "https://axontask.example/.well-known/oauth-protected-resource/mcp"
	oauthOn, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPConfig{
		Authenticator: refuseAll{}, Scope: "tasks:read tasks:write",
		ProtectedResourceFunc: func(*http.Request) (string, string) { return "https://axontask.example/mcp", metadata },
	})
	if err != nil {
		t.Fatal(err)
	}
	oauthOff, err := mcpserver.NewHTTPHandler(server, mcpserver.HTTPConfig{Authenticator: refuseAll{}, Scope: "tasks:read"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, bearer string
		h            http.Handler
		want         string
		exact        bool
	}{
		{"no credential", "", oauthOn, `Bearer realm="axontask", resource_metadata="` + metadata + `", scope="tasks:read tasks:write"`, true},
		{"a refused one", "axt_bogus", oauthOn, `Bearer realm="axontask", resource_metadata="` + metadata + `", scope="tasks:read tasks:write", error="invalid_token", error_description=`, false},
		{"no OAuth", "", oauthOff, `Bearer realm="axontask"`, true},
	} {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/mcp", strings.NewReader(`{}`))
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, req)
		got := w.Header().Get("WWW-Authenticate")
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(got, c.want) || (c.exact && got != c.want) {
			t.Errorf("%s: %d %q, want 401 %q", c.name, w.Code, got, c.want)
		}
	}
}
