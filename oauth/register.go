package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"

	"github.com/google/uuid"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/ratelimit"
)

// registration is the part of an RFC 7591 registration request the server
// reads; other metadata is ignored, as the RFC allows.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// register registers a public client (RFC 7591), at most
// RegistrationsPerMinute per client address.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	d, err := s.limiter.Allow(r.Context(), "oauth-register:"+host, ratelimit.PerMinute(RegistrationsPerMinute))
	if err != nil {
		s.logger.ErrorContext(r.Context(), "oauth: rate limit a registration", "err", err)
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again shortly")
		return
	}
	if !d.Allowed {
		w.Header().Set("Retry-After", fmt.Sprint(int(d.RetryAfter.Seconds())+1))
		writeError(w, http.StatusTooManyRequests, "invalid_request", fmt.Sprintf("at most %d registrations a minute from one address; register once and keep the client_id", RegistrationsPerMinute))
		return
	}
	var reg registration
	if err := json.NewDecoder(r.Body).Decode(&reg); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_client_metadata", "the body must be a JSON object of client metadata (RFC 7591), at most 16 KiB: "+err.Error())
		return
	}
	code, desc := checkRegistration(&reg)
	if code != "" {
		writeError(w, http.StatusBadRequest, code, desc)
		return
	}
	c := eventstore.OAuthClient{ID: uuid.NewString(), Name: reg.ClientName, RedirectURIs: reg.RedirectURIs, CreatedAt: s.now().UTC().Truncate(1e3)}
	if err := s.store.OAuthClientCreate(r.Context(), c); err != nil {
		s.logger.ErrorContext(r.Context(), "oauth: register a client", "err", err)
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the client could not be stored; try again")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"client_id":                  c.ID,
		"client_id_issued_at":        c.CreatedAt.Unix(),
		"client_name":                c.Name,
		"redirect_uris":              c.RedirectURIs,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
}

// checkRegistration checks reg and fills its defaults; it returns an RFC
// 7591 error code and description when reg is refused.
func checkRegistration(reg *registration) (code, desc string) {
	switch {
	case len(reg.RedirectURIs) == 0 || len(reg.RedirectURIs) > MaxRedirectURIs:
		return "invalid_redirect_uri", fmt.Sprintf("redirect_uris must hold 1 to %d URIs", MaxRedirectURIs)
	case len(reg.ClientName) > MaxClientNameLen:
		return "invalid_client_metadata", fmt.Sprintf("client_name is %d bytes; at most %d", len(reg.ClientName), MaxClientNameLen)
	case reg.TokenEndpointAuthMethod != "" && reg.TokenEndpointAuthMethod != "none":
		return "invalid_client_metadata", fmt.Sprintf("token_endpoint_auth_method %q is not supported: clients are public (\"none\") and prove themselves with PKCE", reg.TokenEndpointAuthMethod)
	}
	for _, g := range reg.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return "invalid_client_metadata", fmt.Sprintf("grant_types: %q is not supported; use authorization_code and refresh_token", g)
		}
	}
	for _, t := range reg.ResponseTypes {
		if t != "code" {
			return "invalid_client_metadata", fmt.Sprintf("response_types: %q is not supported; use code", t)
		}
	}
	for _, u := range reg.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return "invalid_redirect_uri", err.Error()
		}
	}
	if reg.ClientName == "" {
		reg.ClientName = "Unnamed client"
	}
	reg.RedirectURIs = slices.Compact(reg.RedirectURIs)
	return "", ""
}

// checkRedirectURI accepts an absolute https URI, or an http one on a
// loopback host (a desktop client's local listener, RFC 8252), without a
// fragment or user info, at most MaxURILen bytes.
func checkRedirectURI(s string) error {
	if len(s) > MaxURILen {
		return fmt.Errorf("redirect URI of %d bytes; at most %d", len(s), MaxURILen)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("redirect URI %q must be absolute, with a host, without a fragment or user info", s)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("redirect URI " + fmt.Sprintf("%q", s) + " must be https, or http on a loopback host (127.0.0.1, [::1], localhost)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
