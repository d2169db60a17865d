package readapi

import (
	"net/http"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// guard admits a request before its body is read, and returns its caller
// (the zero Principal on the anonymous /v1/auth endpoints): an error is
// answered as it is, before any input is looked at.
type guard func(w http.ResponseWriter, r *http.Request) (commands.Principal, error)

// as admits the callers that may take action in their tenant.
func (a *api) as(action domain.Action) guard {
	return func(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
		return a.caller(w, r, action)
	}
}

// anonymous admits anyone within the client address's /v1/auth limit.
func (a *api) anonymous(w http.ResponseWriter, r *http.Request) (commands.Principal, error) {
	return commands.Principal{}, a.limitAddress(w, r, "auth", a.cfg.AuthLimit)
}

// noBody is the request body of an endpoint that reads none.
type noBody = struct{}

// selfDecoder is a request body that reads and decodes itself, for an
// endpoint whose body needs more than decodeBody (another size limit,
// errors that name a list's index).
type selfDecoder interface {
	decode(w http.ResponseWriter, r *http.Request) error
}

// serveJSON returns the handler of a JSON endpoint, the one shape of every
// endpoint but the streams: admit the request (g), decode its body into a
// Req (decodeBody, or its own decode when *Req is a selfDecoder; none when
// Req is noBody), call, and answer the result
// with status (nothing when status is 204), or any error as a problem.
// call may set headers through w, but never writes the body.
func serveJSON[Req, Resp any](a *api, g guard, status int, call func(w http.ResponseWriter, r *http.Request, p commands.Principal, req Req) (Resp, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := g(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		var req Req
		if err := decodeRequest(w, r, &req); err != nil {
			a.writeError(w, r, err)
			return
		}
		resp, err := call(w, r, p, req)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.storeDown.Succeeded()
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		if err := writeJSON(w, status, resp); err != nil {
			a.writeError(w, r, err)
		}
	}
}

// decodeRequest decodes r's body into req as serveJSON describes.
func decodeRequest(w http.ResponseWriter, r *http.Request, req any) error {
	switch d := req.(type) {
	case *noBody:
		return nil
	case selfDecoder:
		return d.decode(w, r)
	}
	return decodeBody(w, r, req)
}
