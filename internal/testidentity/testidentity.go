// Package testidentity gives tests and benchmarks a real identity side on
// a real store: the same keys, issuer and password everywhere, and a
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

// Store is what the identity side needs of the event store (the engines'
// stores have it).
type Store interface {
	commands.IdentityStore
	commands.KeyUsageStore
	commands.GrantStore
}

// Identity is the identity side of a test server, wired by the
// constructor cmd/axontask wires it with (an *Identity is an
// mcpserver.Authenticator).
type Identity = commands.IdentitySide

// New returns an Identity on store whose access tokens, signed with
// Keyring, last a minute; now is its clock (nil: time.Now), logger its log
// (nil: slog.Default(), and no debug lines of the handlers).
func New(store Store, logger *slog.Logger, now func() time.Time) (*Identity, error) {
	issuer, err := auth.NewIssuer(auth.IssuerConfig{Keys: Keyring(), Issuer: Issuer, Audience: Audience, Expiry: time.Minute, NowFunc: now})
	if err != nil {
		return nil, err
	}
	return commands.NewIdentitySide(commands.IdentityConfig{Store: store, Issuer: issuer, Grants: store, NowFunc: now, Logger: logger}, store, nil)
}

// Tenant registers label@example.com (with Password), the owner of a new
// tenant named label, and returns the owner's tokens and an API key there
// with scopes (tasks:read and tasks:write when none are given).
func Tenant(ctx context.Context, id *Identity, label string, scopes ...string) (commands.Tokens, string, error) {
	if len(scopes) == 0 {
		scopes = []string{"tasks:read", "tasks:write"}
	}
	tok, err := id.Register.Handle(ctx, commands.Register{Email: label + "@example.com", Password: Password, TenantName: label})
	if err != nil {
		return commands.Tokens{}, "", err
	}
	owner, err := id.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		return commands.Tokens{}, "", err
	}
	created, err := id.CreateAPIKey.Handle(ctx, commands.CreateAPIKey{By: owner, Name: "tests", Scopes: scopes})
	return tok, created.Key, err
}

// Join makes the registered user of email a member of by's tenant with
// role, as an invitation by by that the user accepts.
func Join(ctx context.Context, id *Identity, by commands.Principal, email, role string) (commands.Membership, error) {
	inv, err := id.InviteMember.Handle(ctx, commands.InviteMember{By: by, Email: email, Role: role})
	if err != nil {
		return commands.Membership{}, err
	}
	user := commands.Principal{UserID: commands.UserIDFor(email)}
	return id.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{By: user, InvitationID: inv.ID})
}
