package readapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/go-chi/chi/v5"

	"github.com/axontask/axontask/readapi"
)

// The OpenAPI document (readapi/openapi.json) is checked against the real
// server: every request the suite sends through bundle.send, and every
// answer, goes through contractTransport, which fails the request when
// either does not match the document. So the document cannot drift from
// the server as long as the suite exercises what changed.

// contract is the loaded, validated OpenAPI document and a router over it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

// loadContract loads readapi.OpenAPI() once for the whole package.
var loadContract = sync.OnceValues(func() (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(readapi.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("validate openapi.json: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route openapi.json: %w", err)
	}
	return &contract{doc: doc, router: router}, nil
})

func mustContract(t *testing.T) *contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contractTransport sends requests with Base and checks each request and
// its answer against the document. A mismatch is the error of RoundTrip,
// so the test's own call fails and says why.
type contractTransport struct {
	c    *contract
	base http.RoundTripper
}

// contractOptions validate strictly: an answer's status must be documented,
// and credentials are checked for their presence (the server decides
// whether they are good).
var contractOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    presentCredentials,
}

// presentCredentials accepts a security scheme whose credential is present
// and well-formed: "Authorization: Bearer <something>", or ?token=.
func presentCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	s := in.SecurityScheme
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"):
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
			return nil
		}
	case s.Type == "apiKey" && s.In == "query":
		if r.URL.Query().Has(s.Name) {
			return nil
		}
	default:
		return fmt.Errorf("security scheme %q of type %s is not checked by the contract test", in.SecuritySchemeName, s.Type)
	}
	return in.NewError(nil)
}

// RoundTrip reads the request's body (RoundTrip closes it, and must not
// modify req), sends a copy, and checks both against the document.
func (ct *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	sent := req.Clone(req.Context())
	if req.Body != nil {
		sent.Body = io.NopCloser(bytes.NewReader(body))
	}
	// The request as the document sees it: the server reads every body as
	// JSON, whatever its Content-Type, and the suite sends none.
	vreq := req.Clone(req.Context())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > 0 && vreq.Header.Get("Content-Type") == "" {
		vreq.Header.Set("Content-Type", "application/json")
	}
	route, params, routeErr := ct.c.router.FindRoute(vreq)
	var in *openapi3filter.RequestValidationInput
	var reqErr error
	if routeErr == nil {
		in = &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: contractOptions}
		reqErr = openapi3filter.ValidateRequest(req.Context(), in)
	}

	resp, err := ct.base.RoundTrip(sent)
	if err != nil {
		return nil, err
	}
	if err := ct.check(resp, routeErr, in, reqErr); err != nil {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("openapi.json does not match %s %s → %d: %w", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	if routeErr == nil && reqErr == nil && resp.StatusCode < 400 {
		exercised.add(route.Operation.OperationID)
	}
	return resp, nil
}

// operationSet is a set of operation ids, safe for concurrent use.
type operationSet struct {
	mu  sync.Mutex
	ops map[string]bool
}

func (s *operationSet) add(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[op] = true
}

// exercised holds the operations that answered a valid request with
// success, checked against the document.
var exercised = &operationSet{ops: map[string]bool{}}

// checkEveryOperationExercised reports the operations of the document that
// the suite never got a checked success from: a document whose operations
// the suite does not exercise could drift unnoticed. It says nothing when
// only some tests ran (-run, -skip).
func checkEveryOperationExercised() error {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return nil
		}
	}
	c, err := loadContract()
	if err != nil {
		return err
	}
	exercised.mu.Lock()
	defer exercised.mu.Unlock()
	var missing []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !exercised.ops[op.OperationID] {
				missing = append(missing, method+" "+path+" ("+op.OperationID+")")
			}
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("no test got a success from these operations of openapi.json, so their answers are not checked against it: %s", strings.Join(missing, ", "))
	}
	return nil
}

// check checks an answer: to a request the document has no operation for,
// it must be a CORS preflight's or a 404 or 405 problem; to a request the
// document rejects, a 4xx; and in every case one the operation documents,
// headers and body. Event streams are checked for their status, headers and
// content type only: their bodies are read by the test, as they come.
func (ct *contractTransport) check(resp *http.Response, routeErr error, in *openapi3filter.RequestValidationInput, reqErr error) error {
	status := resp.StatusCode
	if routeErr != nil {
		return ct.checkUnrouted(resp, routeErr)
	}
	if reqErr != nil && (status < 400 || status > 499) {
		return fmt.Errorf("the server accepted a request that the document rejects: %w", reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: resp.Header, Options: contractOptions}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	documented := in.Route.Operation.Responses.Status(status)
	if mediaType == "text/event-stream" {
		opts := *contractOptions
		opts.ExcludeResponseBody = true
		out.Options = &opts
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			return err
		}
		if documented.Value.Content.Get(mediaType) == nil {
			return fmt.Errorf("a %d answer of this operation is not documented as %s", status, mediaType)
		}
		return nil
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	out.SetBodyBytes(data)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%w\nbody: %.2000s", err, data)
	}
	if documented != nil && len(documented.Value.Content) == 0 && len(data) > 0 {
		return fmt.Errorf("a %d answer of this operation has no documented body, got %q", status, data)
	}
	return nil
}

// checkUnrouted checks the answer to a request the document has no
// operation for.
func (ct *contractTransport) checkUnrouted(resp *http.Response, routeErr error) error {
	req := resp.Request
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" && resp.StatusCode == http.StatusNoContent {
		return nil // a CORS preflight of an allowed origin
	}
	want := http.StatusNotFound
	if errors.Is(routeErr, routers.ErrMethodNotAllowed) {
		want = http.StatusMethodNotAllowed
	}
	if resp.StatusCode != want {
		return fmt.Errorf("not in the document (%w), and the answer is not %d", routeErr, want)
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("a %d for a route not in the document has Content-Type %q, want application/problem+json", want, ct)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("decode the problem: %w", err)
	}
	problem := ct.c.doc.Components.Schemas["Problem"].Value
	if err := problem.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		return fmt.Errorf("the %d problem does not match the Problem schema: %w", want, err)
	}
	return nil
}

// TestOpenAPIDocumentIsValid loads the document as a client would and
// validates it, examples included.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	if c.doc.OpenAPI != "3.1.0" || !c.doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1.0", c.doc.OpenAPI)
	}
}

// TestOpenAPIRoutesMatchRouter checks that every route of the router is in
// the document and that every operation of the document is a route.
func TestOpenAPIRoutesMatchRouter(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		routes, ok := b.handler.(chi.Routes)
		if !ok {
			t.Fatalf("readapi.New returned %T, not a chi router", b.handler)
		}
		var served []string
		err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			served = append(served, method+" "+route)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var documented []string
		for path, item := range c.doc.Paths.Map() {
			for method := range item.Operations() {
				documented = append(documented, method+" "+path)
			}
		}
		slices.Sort(served)
		slices.Sort(documented)
		for _, r := range served {
			if !slices.Contains(documented, r) {
				t.Errorf("%s is served but not in openapi.json", r)
			}
		}
		for _, r := range documented {
			if !slices.Contains(served, r) {
				t.Errorf("%s is in openapi.json but not served", r)
			}
		}
	})
}

// TestOpenAPIServed fetches the document without credentials: the embedded
// bytes, cacheable, revalidated with its ETag.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	forEachStore(t, setupOpts{}, func(t *testing.T, b *bundle) {
		resp := b.send(t, "GET", "/openapi.json", "")
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Cache-Control") != "public, max-age=300" || !bytes.Equal(body, readapi.OpenAPI()) {
			t.Fatalf("GET /openapi.json: %d %v, %d bytes", resp.StatusCode, resp.Header, len(body))
		}
		etag := resp.Header.Get("ETag")
		if again := b.send(t, "GET", "/openapi.json", "", "If-None-Match", `"other", `+etag); again.StatusCode != http.StatusNotModified {
			t.Fatalf("revalidation with the ETag: %d", again.StatusCode)
		}
		if other := b.send(t, "GET", "/openapi.json", "", "If-None-Match", `"other"`); other.StatusCode != http.StatusOK {
			t.Fatalf("revalidation with another ETag: %d", other.StatusCode)
		}
	})
}
