package oauth

import (
	"encoding/json"
	"net/http"
	"strings"
)

// maxBodyBytes bounds a request body of the machine endpoints.
const maxBodyBytes = 16 << 10

// Handler serves the metadata, registration, token and revocation
// endpoints, and passes every other request to next. Browser-based MCP
// clients call them from their own origin, so they answer CORS requests
// from any origin (without credentials: nothing here reads a cookie).
func (s *Server) Handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ResourceMetadataPath, s.resourceMetadata)
	mux.HandleFunc("GET "+ResourceMetadataPath+ResourcePath, s.resourceMetadata)
	mux.HandleFunc("GET "+ServerMetadataPath, s.serverMetadata)
	mux.HandleFunc("POST "+RegisterPath, s.register)
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+RevokePath, s.revoke)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/.well-known/oauth-") && r.URL.Path != RegisterPath && r.URL.Path != TokenPath && r.URL.Path != RevokePath {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			writeError(w, http.StatusNotFound, "invalid_request", "no such OAuth endpoint; see "+ServerMetadataPath)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		mux.ServeHTTP(w, r)
	})
}

// resourceMetadata answers the protected resource metadata of /mcp (RFC
// 9728), at the root and at the resource's path-aware location. Its
// scopes are those /mcp's tools need, which clients (the TypeScript SDK)
// ask for by default; admin is for a client that asks for it.
func (s *Server) resourceMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"resource":                 s.Resource(r),
		"authorization_servers":    []string{s.baseOf(r)},
		"scopes_supported":         strings.Fields(DefaultScope),
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "AxonTask MCP",
	})
}

// scopesSupported are the scopes a client may ask for: the API keys'.
var scopesSupported = []string{"tasks:read", "tasks:write", "admin"}

// serverMetadata answers the authorization server metadata (RFC 8414).
func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	base := s.baseOf(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         base,
		"authorization_endpoint":                         base + AuthorizePath,
		"token_endpoint":                                 base + TokenPath,
		"registration_endpoint":                          base + RegisterPath,
		"revocation_endpoint":                            base + RevokePath,
		"scopes_supported":                               scopesSupported,
		"response_types_supported":                       []string{"code"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported":          []string{"none"},
		"revocation_endpoint_auth_methods_supported":     []string{"none"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
	})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers an OAuth error (RFC 6749 section 5.2): the shape
// OAuth clients read, rather than the API's problem+json.
func writeError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="axontask"`)
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
