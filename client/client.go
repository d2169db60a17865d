package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultUserAgent is the User-Agent of a Client without WithUserAgent.
const DefaultUserAgent = "axontask-go-client"

// Bounds on what the client reads of a response.
const (
	// maxJSONBytes bounds a JSON answer other than a page of events.
	maxJSONBytes = 8 << 20
	// maxProblemBytes bounds the body of an error answer.
	maxProblemBytes = 64 << 10
	// maxPayloadBytes is the server's bound on one event's canonical
	// payload (eventstore.DefaultMaxPayloadBytes).
	maxPayloadBytes = 1 << 20
	// maxEventBytes bounds one event's JSON form, and so one SSE line: the
	// largest payload, written verbatim, and its envelope.
	maxEventBytes = maxPayloadBytes + 64<<10
)

// Client calls the AxonTask HTTP API at one base URL with one bearer
// credential. It is safe for concurrent use; its configuration does not
// change after New.
type Client struct {
	base      *url.URL
	basePath  string // base.EscapedPath() without a trailing slash
	token     string
	hc        *http.Client
	userAgent string
}

// Option configures a Client in New.
type Option func(*Client)

// WithToken makes the Client send "Authorization: Bearer token" on every
// call that needs a credential: an API key (axt_…) or an access token
// from Register, Login or Refresh. Without it only the identity,
// health and resume-token calls work.
func WithToken(token string) Option {
	return func(c *Client) { c.token = token }
}

// WithHTTPClient makes the Client send its requests through hc (nil: a
// fresh http.Client on http.DefaultTransport). Give it no Timeout: it would
// cut long streams; contexts bound each call instead.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithUserAgent sets the User-Agent header (default DefaultUserAgent).
func WithUserAgent(userAgent string) Option {
	return func(c *Client) { c.userAgent = userAgent }
}

// New returns a Client of the API at baseURL: an http or https URL with a
// host, optionally a path prefix (https://example.com/axontask), and no
// query, fragment or user info. It fails when baseURL or an option is
// unusable; its errors never repeat the token.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, errors.New("axontask client: the base URL does not parse; give one like https://axontask.example.com")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("axontask client: the base URL's scheme is %q; use http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("axontask client: the base URL has no host; give one like https://axontask.example.com")
	case u.User != nil:
		return nil, errors.New("axontask client: the base URL holds user info; pass credentials with WithToken instead")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("axontask client: the base URL has a query; remove it")
	case u.Fragment != "" || u.RawFragment != "":
		return nil, errors.New("axontask client: the base URL has a fragment; remove it")
	}
	c := &Client{base: u, basePath: strings.TrimSuffix(u.EscapedPath(), "/"), userAgent: DefaultUserAgent}
	for _, opt := range opts {
		opt(c)
	}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if !validHeaderValue(c.token) {
		return nil, errors.New("axontask client: WithToken: the token holds whitespace or control characters; pass the key or token alone")
	}
	if strings.ContainsFunc(c.userAgent, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("axontask client: WithUserAgent: the user agent holds control characters")
	}
	return c, nil
}

// validHeaderValue reports whether s is free of control characters and
// spaces, as a bearer credential is.
func validHeaderValue(s string) bool {
	for i := range len(s) {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// call describes one request.
type call struct {
	method string
	// path is the escaped path under the base URL, like "/mcp/start_task".
	path  string
	query url.Values
	// body, when not nil, is sent as JSON.
	body   any
	header http.Header
	// anonymous calls send no Authorization header (identity and health
	// endpoints); resume-token calls carry their token in query instead.
	anonymous bool
}

// url returns the URL of path (escaped) with query q.
func (c *Client) url(path string, q url.Values) *url.URL {
	u := *c.base
	u.RawPath = c.basePath + path
	u.Path, _ = url.PathUnescape(u.RawPath) // every caller escapes its segments
	u.RawQuery = q.Encode()
	return &u
}

// newRequest builds k's request.
func (c *Client) newRequest(ctx context.Context, k call) (*http.Request, error) {
	var body io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return nil, fmt.Errorf("axontask client: encode the body of %s %s: %w", k.method, k.path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, k.method, c.url(k.path, k.query).String(), body)
	if err != nil {
		return nil, fmt.Errorf("axontask client: %s %s: %w", k.method, k.path, err)
	}
	for name, values := range k.header {
		req.Header[name] = values
	}
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)
	if !k.anonymous && c.token != "" && !k.query.Has("token") {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// send sends req; a transport error has any resume token in its URL
// redacted.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, redact(err)
	}
	return resp, nil
}

// do sends k and decodes a 2xx answer's JSON body into out (nil: the body
// is discarded), reading at most limit bytes (0: maxJSONBytes). Any other
// answer is an *APIError.
func (c *Client) do(ctx context.Context, k call, out any, limit int64) error {
	body, path, err := c.read(ctx, k, limit)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("axontask: %s %s: decode the answer: %w", k.method, path, err)
	}
	return nil
}

// read sends k and returns a 2xx answer's body, at most limit bytes (0:
// maxJSONBytes), and the request's path. Any other answer is an *APIError.
func (c *Client) read(ctx context.Context, k call, limit int64) ([]byte, string, error) {
	req, err := c.newRequest(ctx, k)
	if err != nil {
		return nil, k.path, err
	}
	resp, err := c.send(req)
	if err != nil {
		return nil, req.URL.Path, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, req.URL.Path, readAPIError(req, resp)
	}
	if limit <= 0 {
		limit = maxJSONBytes
	}
	body, err := readBounded(resp.Body, limit)
	if err != nil {
		return nil, req.URL.Path, fmt.Errorf("axontask: %s %s: read the answer: %w", req.Method, req.URL.Path, redact(err))
	}
	return body, req.URL.Path, nil
}

// errTooLarge reports an answer past the client's bound.
var errTooLarge = errors.New("the answer is larger than the client accepts")

// readBounded reads r to its end, failing beyond limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, limit)
	}
	return b, nil
}

// redact removes resume tokens from the URL of a *url.Error (which the
// transport's errors are), so that no error carries one.
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}

// redactURL replaces the value of a token query parameter with REDACTED.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	q := u.Query()
	if q.Has("token") {
		q.Set("token", "REDACTED")
		u.RawQuery = q.Encode()
	}
	u.User = nil
	return u.String()
}

// segment escapes one path segment taken from the caller, refusing those
// that would change the path's meaning.
func segment(name, v string) (string, error) {
	if v == "" || v == "." || v == ".." {
		return "", fmt.Errorf("axontask client: %s is %q; give the id", name, v)
	}
	return url.PathEscape(v), nil
}
