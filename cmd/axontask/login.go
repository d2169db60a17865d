package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/axontask/axontask/api"
	"github.com/axontask/axontask/client"
)

const (
	loginAbout = "sign in to the API and keep the session's tokens in the user's config directory " +
		"(" + credentialsPath + ", mode 0600): the client commands then use them when AXONTASK_API_KEY is not set, " +
		"refreshing the access token when it expires. The password is read from the terminal without echo, " +
		"or else as one line of standard input"
	logoutAbout = "end the stored session at the API and forget its tokens"
)

// loginJSON is login's JSON output: who signed in where, never the tokens.
type loginJSON struct {
	URL             string   `json:"url"`
	Email           string   `json:"email"`
	UserID          string   `json:"user_id"`
	TenantID        string   `json:"tenant_id"`
	Role            string   `json:"role"`
	ExpiresAt       api.Time `json:"expires_at"`
	CredentialsFile string   `json:"credentials_file"`
}

func runLogin(ctx context.Context, cl *commandLine) error {
	email := cl.fs.String("email", "", "the account's email address (asked for on a terminal)")
	tenant := cl.fs.String("tenant", "", "the id of another tenant you belong to (default: your own)")
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	base, err := canonicalURL(cl.cf.url)
	if err != nil {
		return err
	}
	con := cl.con
	if *email == "" {
		if con.readPassword == nil {
			return usageError("login: give -email (standard input is not a terminal, so the password is read from it)")
		}
		if *email, err = con.prompt("Email: "); err != nil {
			return fmt.Errorf("login: read the email address: %w", err)
		}
	}
	*email = strings.TrimSpace(*email)
	password, err := con.password()
	switch {
	case errors.Is(err, io.EOF) || (err == nil && password == ""):
		return usageError("login: no password given: type it at the prompt, or pipe it on standard input")
	case err != nil:
		return fmt.Errorf("login: read the password: %w", err)
	}
	anon, err := client.New(base, client.WithUserAgent(userAgent))
	if err != nil {
		return usageError(err.Error())
	}
	tokens, err := anon.Login(ctx, api.LoginRequest{Email: *email, Password: password, TenantID: *tenant})
	if errors.Is(err, client.ErrUnauthenticated) {
		return &exitError{exitAuth, fmt.Errorf("login: the email address, password or tenant is wrong (%s)", base)}
	}
	if err != nil {
		return apiFailure(ctx, "login", base, err)
	}
	store, err := newCredentialStore(con)
	if err != nil {
		return err
	}
	l := storedLogin{
		Email: *email, UserID: tokens.UserID, TenantID: tokens.TenantID, Role: string(tokens.Role),
		AccessToken: tokens.AccessToken, ExpiresAt: con.now().Add(tokens.Lifetime()), RefreshToken: tokens.RefreshToken,
	}
	err = store.update(func(f *credentialsFile) (bool, error) {
		f.Logins[base] = l
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if cl.cf.json {
		return writeJSON(con.stdout, loginJSON{URL: base, Email: l.Email, UserID: l.UserID, TenantID: l.TenantID, Role: l.Role,
			ExpiresAt: api.Time{Time: l.ExpiresAt}, CredentialsFile: store.path})
	}
	fmt.Fprintf(con.stdout, "logged in to %s as %s (tenant %s, role %s)\ntokens stored in %s\n", base, l.Email, l.TenantID, l.Role, store.path)
	if con.getenv("AXONTASK_API_KEY") != "" {
		fmt.Fprintln(con.stderr, "axontask: AXONTASK_API_KEY is set, and wins over this login; unset it to act as "+l.Email)
	}
	return nil
}

func runLogout(ctx context.Context, cl *commandLine) error {
	if _, err := cl.parse(0, 0); err != nil {
		return err
	}
	base, err := canonicalURL(cl.cf.url)
	if err != nil {
		return err
	}
	store, err := newCredentialStore(cl.con)
	if err != nil {
		return err
	}
	var l storedLogin
	var found bool
	var serverErr error
	err = store.update(func(f *credentialsFile) (bool, error) {
		if l, found = f.Logins[base]; !found {
			return false, nil
		}
		anon, err := client.New(base, client.WithUserAgent(userAgent))
		if err != nil {
			return false, err
		}
		// A session that already ended is ended: forget it all the same.
		if err := anon.Logout(ctx, l.RefreshToken); err != nil && !errors.Is(err, client.ErrUnauthenticated) {
			serverErr = apiFailure(ctx, "logout", base, err)
		}
		delete(f.Logins, base)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if serverErr != nil {
		fmt.Fprintf(cl.con.stderr, "axontask: %v; the tokens are forgotten here, and the session ends by itself within 30 days\n", serverErr)
	}
	if cl.cf.json {
		return writeJSON(cl.con.stdout, struct {
			URL       string `json:"url"`
			LoggedOut bool   `json:"logged_out"`
		}{base, found})
	}
	if !found {
		fmt.Fprintf(cl.con.stdout, "not logged in to %s\n", base)
		return nil
	}
	fmt.Fprintf(cl.con.stdout, "logged out of %s (%s)\n", base, l.Email)
	return nil
}
