package fly

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/axontask/axontask/internal/textcut"
)

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// apiError is an answer of the Fly API other than 2xx.
type apiError struct {
	status int
	msg    string
	// retryAfter is the Retry-After of a 429 or 503 (0: none).
	retryAfter time.Duration
}

func (e *apiError) Error() string {
	return fmt.Sprintf("the Fly API answered %d %s: %s", e.status, http.StatusText(e.status), e.msg)
}

// statusOf returns the HTTP status of an *apiError in err's chain, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status
	}
	return 0
}

// transient reports whether a call that failed with err may succeed if
// made again: a rate limit, a 5xx, or no answer at all.
func transient(err error) bool {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status == http.StatusTooManyRequests || ae.status >= 500
	}
	return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// client calls the Machines API and the logs API for one app with one
// token. The token goes into the Authorization header only: never into an
// error or a log line.
type client struct {
	cfg   *Config
	app   string
	token string
}

// callOpts are a call's options.
type callOpts struct {
	// once: a 5xx or a lost answer is not retried (the call may have taken
	// effect); a 429 still is.
	once bool
}

// machinesPath returns the Machines API URL of path under the app.
func (c *client) machinesPath(path string, q url.Values) string {
	u := c.cfg.APIURL + "/v1/apps/" + url.PathEscape(c.app) + "/machines" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// call makes a request of method to u with in as its JSON body (nil: none)
// and decodes a 2xx answer into out (nil: discarded). 429s, and unless
// opts.once 5xx and failed connections, are retried with exponential
// backoff (Config.RetryMin to RetryMax, jittered; a Retry-After wins when
// longer, up to RetryMax) up to Config.MaxAttempts calls in all.
func (c *client) call(ctx context.Context, method, u string, in, out any, opts callOpts) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode the request: %w", err)
		}
	}
	for attempt := 1; ; attempt++ {
		err := c.once(ctx, method, u, body, out)
		if err == nil {
			return nil
		}
		retry := statusOf(err) == http.StatusTooManyRequests || (!opts.once && transient(err))
		if !retry || attempt >= c.cfg.MaxAttempts || ctx.Err() != nil {
			return err
		}
		if err := c.cfg.SleepFunc(ctx, c.pause(attempt, err)); err != nil {
			return fmt.Errorf("%w (while waiting to retry after: %w)", context.Cause(ctx), err)
		}
	}
}

// pause returns how long to wait before retry number attempt after err.
func (c *client) pause(attempt int, err error) time.Duration {
	d := c.cfg.RetryMin << min(attempt-1, 20)
	d = min(d, c.cfg.RetryMax)
	d = d/2 + rand.N(d/2+1) // jitter: half to all of it
	var ae *apiError
	if errors.As(err, &ae) && ae.retryAfter > d {
		d = min(ae.retryAfter, c.cfg.RetryMax)
	}
	return d
}

// once makes one request.
func (c *client) once(ctx context.Context, method, u string, body []byte, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return fmt.Errorf("build the request: %w", err)
	}
	req.Header.Set("Authorization", authorization(c.token))
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL holds no secret; the error names the host the operator set.
		return fmt.Errorf("call the Fly API: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode the Fly API's answer to %s %s: %w", method, req.URL.Path, err)
	}
	return nil
}

// authorization returns the Authorization header of token, as flyctl
// sends it: a token written with its scheme ("FlyV1 fm2_…", as `fly tokens
// create` prints it, or "Bearer …") loses it, and the token goes with
// FlyV1 when it holds a macaroon (fm1r_, fm1a_, fm2_), Bearer otherwise.
func authorization(token string) string {
	t := strings.TrimSpace(token)
	for _, scheme := range []string{"FlyV1 ", "Bearer "} {
		if rest, ok := strings.CutPrefix(t, scheme); ok {
			t = strings.TrimSpace(rest)
			break
		}
	}
	for part := range strings.SplitSeq(t, ",") {
		switch prefix, _, _ := strings.Cut(strings.TrimSpace(part), "_"); prefix {
		case "fm1r", "fm1a", "fm2":
			return "FlyV1 " + t
		}
	}
	return "Bearer " + t
}

// readError turns an answer that is not 2xx into an *apiError, with the
// message of its {"error": "…"} body.
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &apiError{status: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &body) == nil && body.Error != "" {
		e.msg = body.Error
	} else {
		e.msg = strings.TrimSpace(string(b))
	}
	e.msg = textcut.Clip(e.msg, 300)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.retryAfter = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
		e.retryAfter = time.Until(t)
	}
	return e
}
