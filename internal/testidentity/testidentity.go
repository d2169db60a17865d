// Package testidentity gives tests and benchmarks a real identity service
// on a real store: the same keys, issuer and password everywhere, and a
// helper that registers a tenant and makes it an API key.
package testidentity

import (
	"bytes"
	"context"
	"log/slog"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/commands"
)

// Password is every test user's password.
const Password = "correct horse battery"

// Issuer and Audience are the claims of test access tokens.
const (
	Issuer   = "axontask-test"
	Audience = "axontask"
)

// Keyring returns the keyring that signs test access tokens (kid "k1").
func Keyring() *auth.Keyring {
	ring, err := auth.NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte("j"), 32)})
	if err != nil {
		panic(err) // a constant keyring: cannot fail
	}
	return ring
}

// New returns an Identity on store whose access tokens, signed with
// Keyring, last a minute; now is its clock (nil: time.Now), logger its log
// (nil: slog.Default()).
func New(store commands.IdentityStore, logger *slog.Logger, now func() time.Time) (*commands.Identity, error) {
	issuer, err := auth.NewIssuer(auth.IssuerConfig{Keys: Keyring(), Issuer: Issuer, Audience: Audience, Expiry: time.Minute, NowFunc: now})
	if err != nil {
		return nil, err
	}
	return commands.NewIdentity(commands.IdentityConfig{Store: store, Issuer: issuer, NowFunc: now, Logger: logger})
}

// Tenant registers label@example.com (with Password), the owner of a new
// tenant named label, and returns the owner's tokens and an API key there
// with scopes (tasks:read and tasks:write when none are given).
func Tenant(ctx context.Context, id *commands.Identity, label string, scopes ...string) (commands.Tokens, string, error) {
	if len(scopes) == 0 {
		scopes = []string{"tasks:read", "tasks:write"}
	}
	tok, err := id.Register(ctx, commands.Register{Email: label + "@example.com", Password: Password, TenantName: label})
	if err != nil {
		return commands.Tokens{}, "", err
	}
	owner, err := id.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		return commands.Tokens{}, "", err
	}
	key, _, err := id.CreateAPIKey(ctx, commands.CreateAPIKey{By: owner, Name: "tests", Scopes: scopes})
	return tok, key, err
}
