package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/axontask/axontask/client"
)

// exitInterrupted is the exit code of a client command stopped by SIGINT
// or SIGTERM, as in shells.
const exitInterrupted = 130

// refreshMargin: a stored access token this close to its expiry is
// refreshed before use.
const refreshMargin = 30 * time.Second

// userAgent is the User-Agent of the client commands.
const userAgent = "axontask-cli"

// clientFlags are the flags every client command takes.
type clientFlags struct {
	url  string
	json bool
}

func (f *clientFlags) register(fs *flag.FlagSet, con *console) {
	def := con.getenv("AXONTASK_URL")
	if def == "" {
		def = defaultAPIURL
	}
	fs.StringVar(&f.url, "url", def, "URL of the AxonTask API (AXONTASK_URL)")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts instead of text")
}

// canonicalURL returns the API's base URL without a trailing slash, the
// key of its stored login, or a usage error.
func canonicalURL(raw string) (string, error) {
	if _, err := client.New(raw); err != nil {
		return "", usageError(fmt.Sprintf("-url / AXONTASK_URL %q: %v", raw, strings.TrimPrefix(err.Error(), "axontask client: ")))
	}
	u, _ := url.Parse(raw)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// remote calls the API as the user: with the key in AXONTASK_API_KEY, or
// else with the access token of their stored login, refreshed when it
// has expired.
type remote struct {
	con   *console
	base  string
	c     *client.Client
	store *credentialStore // nil with an API key
	token string           // the stored access token in use
}

// connect returns a remote for f's URL, or an error with exitAuth when
// there are no credentials.
func (f *clientFlags) connect(ctx context.Context, con *console) (*remote, error) {
	base, err := canonicalURL(f.url)
	if err != nil {
		return nil, err
	}
	r := &remote{con: con, base: base}
	if key := strings.TrimSpace(con.getenv("AXONTASK_API_KEY")); key != "" {
		if r.c, err = client.New(base, client.WithToken(key), client.WithUserAgent(userAgent)); err != nil {
			return nil, usageError("AXONTASK_API_KEY: " + strings.TrimPrefix(err.Error(), "axontask client: WithToken: "))
		}
		return r, nil
	}
	if r.store, err = newCredentialStore(con); err != nil {
		return nil, err
	}
	if err := r.useLogin(ctx, false); err != nil {
		return nil, err
	}
	return r, nil
}

// refresh gets a new access token after the API refused the current one
// and points r.c at it. With an API key it returns false: there is nothing
// to refresh.
func (r *remote) refresh(ctx context.Context) (bool, error) {
	if r.store == nil {
		return false, nil
	}
	return true, r.useLogin(ctx, true)
}

// useLogin points r.c at the stored login's access token, refreshing it
// first when it expires within refreshMargin or, with force, when it is
// still the one r used. It holds the store's lock while it refreshes,
// and takes a token another process refreshed meanwhile.
func (r *remote) useLogin(ctx context.Context, force bool) error {
	var token string
	err := r.store.update(func(f *credentialsFile) (bool, error) {
		l, ok := f.Logins[r.base]
		if !ok {
			return false, &exitError{exitAuth, fmt.Errorf("no credentials for %s: set AXONTASK_API_KEY to an API key, or run `axontask login -url %s`", r.base, r.base)}
		}
		fresh := l.ExpiresAt.After(r.con.now().Add(refreshMargin))
		refused := force && l.AccessToken == r.token // another process may have refreshed it since
		if fresh && !refused {
			token = l.AccessToken
			return false, nil
		}
		anon, err := client.New(r.base, client.WithUserAgent(userAgent))
		if err != nil {
			return false, err
		}
		tokens, err := anon.Refresh(ctx, l.RefreshToken)
		if errors.Is(err, client.ErrUnauthenticated) {
			return false, &exitError{exitAuth, fmt.Errorf("your login at %s has ended (expired, revoked or logged out elsewhere): run `axontask login -url %s` again", r.base, r.base)}
		}
		if err != nil {
			return false, apiFailure(ctx, "refresh the login", r.base, err)
		}
		l.AccessToken, l.RefreshToken = tokens.AccessToken, tokens.RefreshToken
		l.ExpiresAt = r.con.now().Add(tokens.Lifetime())
		l.Role = string(tokens.Role)
		f.Logins[r.base] = l
		token = l.AccessToken
		return true, nil
	})
	if err != nil {
		return err
	}
	c, err := client.New(r.base, client.WithToken(token), client.WithUserAgent(userAgent))
	if err != nil {
		return fmt.Errorf("the stored access token is unusable (%w): run `axontask login -url %s` again", err, r.base)
	}
	r.c, r.token = c, token
	return nil
}

// do runs fn with r's client; when the API answers 401 to a stored login's
// token, it refreshes the token once and runs fn again.
func (r *remote) do(ctx context.Context, fn func(*client.Client) error) error {
	err := fn(r.c)
	if !errors.Is(err, client.ErrUnauthenticated) {
		return err
	}
	refreshed, rerr := r.refresh(ctx)
	switch {
	case rerr != nil:
		return rerr
	case !refreshed:
		return err
	}
	return fn(r.c)
}

// callAPI runs fn with r's client, as do does, and turns its error into the
// command's, as fail does; op names the call in that error ("task status
// ID"). fn may run twice: it must not keep anything of a first run.
func callAPI[T any](ctx context.Context, r *remote, op string, fn func(*client.Client) (T, error)) (T, error) {
	var v T
	err := r.do(ctx, func(c *client.Client) error {
		var err error
		v, err = fn(c)
		return err
	})
	if err != nil {
		var zero T
		return zero, r.fail(ctx, op, err)
	}
	return v, nil
}

// connectCallAPI connects with cl's flags and makes one call (see callAPI): the
// request of a client command that needs the API once.
func connectCallAPI[T any](ctx context.Context, cl *commandLine, op string, fn func(*client.Client) (T, error)) (T, error) {
	r, err := cl.cf.connect(ctx, cl.con)
	if err != nil {
		var zero T
		return zero, err
	}
	return callAPI(ctx, r, op, fn)
}

// fail turns an error of a call to the API into the command's error: the
// server's detail and the exit code scripts rely on.
func (r *remote) fail(ctx context.Context, op string, err error) error {
	return apiFailure(ctx, op, r.base, err)
}

// apiFailure turns an error of a call to the API at base into an
// *exitError: the problem's detail and what to do, with exitUsage for
// input the API refused, exitAuth for 401 and 403, exitNotFound for 404,
// exitFailed for a conflict (a task that already ended) and exitInternal
// for the rest. An interruption is exitInterrupted.
func apiFailure(ctx context.Context, op, base string, err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	if ctx.Err() != nil {
		return &exitError{exitInterrupted, fmt.Errorf("%s: interrupted", op)}
	}
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return &exitError{exitInternal, fmt.Errorf("%s: cannot reach the AxonTask API at %s (%w); is it running? Set -url or AXONTASK_URL to its address", op, base, ue.Err)}
		}
		return &exitError{exitInternal, fmt.Errorf("%s: %w", op, err)}
	}
	msg := apiErr.Detail
	if msg == "" {
		msg = apiErr.Title
	}
	if apiErr.Field != "" {
		msg += " (field " + apiErr.Field + ")"
	}
	code := exitInternal
	switch {
	case errors.Is(err, client.ErrInvalidInput):
		code = exitUsage
	case errors.Is(err, client.ErrUnauthenticated):
		code = exitAuth
		msg += "; set AXONTASK_API_KEY to a valid API key, or run `axontask login -url " + base + "`"
	case errors.Is(err, client.ErrForbidden):
		code = exitAuth
	case errors.Is(err, client.ErrNotFound):
		code = exitNotFound
	case errors.Is(err, client.ErrConflict):
		code = exitFailed
	case errors.Is(err, client.ErrRateLimited) && apiErr.RetryAfter > 0:
		msg += fmt.Sprintf("; retry in %s", apiErr.RetryAfter.Round(time.Second))
	case apiErr.Status >= 500 && apiErr.RequestID != "":
		msg += " (request id " + apiErr.RequestID + ")"
	}
	return &exitError{code, fmt.Errorf("%s: %s", op, msg)}
}
