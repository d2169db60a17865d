package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
)

// Access token settings, from the environment.
const (
	defaultJWTExpiry = 15 * time.Minute
	jwtIssuer        = "axontask"
	jwtAudience      = "axontask-api"
	// devKID is the key id of JWT_SECRET (or dev's generated key) in the
	// keyring; keep "default:<secret>" in JWT_KEYS when rotating away from it.
	devKID = "default"
)

// jwtSecret returns JWT_SECRET, the secret that the access and resume
// token keys are derived from, or a usage error that says how to make one
// when it is unset, too short or a placeholder (auth.CheckSecret).
func jwtSecret() ([]byte, error) {
	secret := []byte(os.Getenv("JWT_SECRET"))
	if len(secret) == 0 {
		return nil, usageError(`set JWT_SECRET to a long random secret, like the output of "openssl rand -hex 32"; the access and resume token keys are derived from it`)
	}
	if err := auth.CheckSecret(secret); err != nil {
		return nil, usageError("JWT_SECRET " + err.Error())
	}
	return secret, nil
}

// identityStore is what the identity side needs of the event store.
type identityStore interface {
	commands.IdentityStore
	commands.KeyUsageStore
	commands.GrantStore
}

// newIdentity builds the identity side on store, its handlers decorated
// with logger and metrics. Access tokens are signed with the keys derived
// from JWT_KEYS ("kid:secret,…", the first signs) when set, else from
// secret under kid "default" (auth.Keyring); they last JWT_EXPIRY_SECONDS
// (default 900).
func newIdentity(store identityStore, secret []byte, logger *slog.Logger, metrics commands.MetricsClient) (*commands.IdentitySide, error) {
	var ring *auth.Keyring
	var err error
	if spec := os.Getenv("JWT_KEYS"); spec != "" {
		ring, err = auth.ParseKeyring(spec)
	} else {
		ring, err = auth.NewKeyring(devKID, map[string][]byte{devKID: secret})
	}
	if err != nil {
		return nil, fmt.Errorf("JWT_KEYS / JWT_SECRET: %w", err)
	}
	expiry := defaultJWTExpiry
	if s := os.Getenv("JWT_EXPIRY_SECONDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("JWT_EXPIRY_SECONDS is %q; set it to a positive number of seconds", s)
		}
		expiry = time.Duration(n) * time.Second
	}
	issuer, err := auth.NewIssuer(auth.IssuerConfig{Keys: ring, Issuer: jwtIssuer, Audience: jwtAudience, Expiry: expiry, Leeway: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("access tokens: %w", err)
	}
	return commands.NewIdentitySide(commands.IdentityConfig{Store: store, Issuer: issuer, Grants: store, Logger: logger}, store, metrics)
}

// devCredentials are the local user's, kept in the data dir (mode 0600) so
// that dev prints the same ready API key at every start.
type devCredentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	APIKey   string `json:"api_key"`
}

const devEmail = "dev@localhost"

// ensureDevCredentials returns working credentials of the local user: on the
// first start it registers the user (and their tenant, "local", on the ent
// plan, through setPlan) and creates an API key with every scope; later it
// reuses them, making a new key when the old one was revoked.
func ensureDevCredentials(ctx context.Context, id *commands.IdentitySide, setPlan commands.Handler[commands.SetPlan, struct{}], dataDir string) (devCredentials, error) {
	path := filepath.Join(dataDir, "dev-credentials.json")
	var c devCredentials
	b, err := os.ReadFile(path)
	// The access token that makes the key: from the registration on a first
	// start, from a sign-in when the stored key was revoked.
	var access string
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("read %s: %w; delete it together with events.db to start afresh", path, err)
		}
		if _, err := id.Authenticate(ctx, c.APIKey); err == nil {
			return c, nil
		}
		tok, err := id.Login.Handle(ctx, commands.Login{Email: c.Email, Password: c.Password})
		if err != nil {
			return c, fmt.Errorf("sign the local user in: %w", err)
		}
		access = tok.AccessToken
	case errors.Is(err, os.ErrNotExist):
		c = devCredentials{Email: devEmail, Password: rand.Text()}
		tok, err := id.Register.Handle(ctx, commands.Register{Email: c.Email, Password: c.Password, TenantName: "local"})
		if errors.Is(err, commands.ErrEmailTaken) {
			return c, fmt.Errorf("the local user exists but %s is gone; delete events.db in the data dir to start afresh", path)
		}
		if err != nil {
			return c, fmt.Errorf("create the local user: %w", err)
		}
		// The local tenant is the developer's own: the largest plan.
		if _, err := setPlan.Handle(ctx, commands.SetPlan{TenantID: tok.TenantID, Plan: domain.PlanEnt, Meta: domain.Metadata{Actor: "dev"}}); err != nil {
			return c, fmt.Errorf("put the local tenant on the ent plan: %w", err)
		}
		access = tok.AccessToken
	default:
		return c, err
	}
	owner, err := id.Authenticate(ctx, access)
	if err != nil {
		return c, err
	}
	created, err := id.CreateAPIKey.Handle(ctx, commands.CreateAPIKey{By: owner, Name: "dev", Scopes: []string{"admin"}})
	if err != nil {
		return c, fmt.Errorf("create the local API key: %w", err)
	}
	c.APIKey = created.Key
	b, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return c, err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return c, fmt.Errorf("write %s: %w", path, err)
	}
	return c, nil
}
