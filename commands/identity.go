package commands

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/axontask/axontask/auth"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// Identity errors. Answer them without more detail than their text: they
// must not tell an attacker which part of a credential was wrong.
var (
	// ErrEmailTaken: a user with this email address exists (409).
	ErrEmailTaken = errors.New("an account with this email address already exists; sign in instead")
	// ErrBadCredentials: the email address or the password is wrong, or the
	// user is not a member of the tenant asked for (401).
	ErrBadCredentials = errors.New("the email address or password is wrong")
	// ErrUnauthenticated: a bearer credential is missing, malformed, expired,
	// revoked or unknown (401). Wrapped errors say which, without the secret.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden: the caller is authenticated but their role or the key's
	// scopes do not allow the action (403). It is only ever returned for
	// the caller's own tenant: other tenants' things are not found.
	ErrForbidden = errors.New("not allowed")
	// ErrAPIKeyNotFound: no API key with this id in the caller's tenant (404).
	ErrAPIKeyNotFound = errors.New("API key not found")
	// ErrTooManyAPIKeys: the tenant has MaxAPIKeysPerTenant active keys (409).
	ErrTooManyAPIKeys = fmt.Errorf("the tenant has %d active API keys, the limit; revoke unused ones first", MaxAPIKeysPerTenant)
)

// Defaults and limits of identity.
const (
	// DefaultSessionTTL is how long a login's refresh tokens stay usable.
	DefaultSessionTTL = 30 * 24 * time.Hour
	// MaxAPIKeysPerTenant bounds a tenant's active API keys (concurrent
	// creations may pass it by a few).
	MaxAPIKeysPerTenant = 200
)

// IdentityStore is what the identity handlers need of the event store.
type IdentityStore interface {
	StreamReader
	EventAppender
	// ListStreams lists a tenant's streams of one type (eventstore.Store).
	ListStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error)
}

// GrantStore says whether an OAuth grant is in force (eventstore.OAuthStore):
// a delegated access token is taken only while the grant it was issued
// under is.
type GrantStore interface {
	OAuthGrantInForce(ctx context.Context, id string) (bool, error)
}

// IdentityConfig configures NewIdentityDeps.
type IdentityConfig struct {
	// Store keeps the identity streams; required.
	Store IdentityStore
	// Issuer signs and verifies access tokens; required.
	Issuer *auth.Issuer
	// Grants keeps the OAuth grants that delegated access tokens are
	// checked against on every call; required.
	Grants GrantStore
	// SessionTTL is how long a login's refresh tokens work (default
	// DefaultSessionTTL).
	SessionTTL time.Duration
	// InvitationTTL is how long an invitation can be accepted (default
	// DefaultInvitationTTL, 7 days).
	InvitationTTL time.Duration
	// MaxConcurrentHashes bounds Argon2id hashes running at once, each
	// using about 19 MiB and 25 ms of a core (default GOMAXPROCS).
	MaxConcurrentHashes int
	// NowFunc gives the time (default time.Now).
	NowFunc func() time.Time
	// Logger receives the failures that do not change a command's answer
	// (a session not revoked, a password not rehashed; default slog.Default()).
	Logger *slog.Logger
}

func (c IdentityConfig) withDefaults() IdentityConfig {
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.InvitationTTL == 0 {
		c.InvitationTTL = DefaultInvitationTTL
	}
	if c.MaxConcurrentHashes == 0 {
		c.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if c.NowFunc == nil {
		c.NowFunc = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

func (c IdentityConfig) validate() error {
	if c.Store == nil || c.Issuer == nil || c.Grants == nil {
		return errors.New("identity config: Store, Issuer and Grants are required")
	}
	if c.SessionTTL < time.Minute || c.InvitationTTL < time.Minute || c.MaxConcurrentHashes < 1 {
		return fmt.Errorf("identity config: SessionTTL (%s) and InvitationTTL (%s) must be at least a minute, MaxConcurrentHashes (%d) positive",
			c.SessionTTL, c.InvitationTTL, c.MaxConcurrentHashes)
	}
	return nil
}

// IdentityDeps is what the identity handlers and the Authenticator share:
// the store and its writer, the token issuer, the bound on concurrent
// password hashes, the clock and the logger. Build one per process with
// NewIdentityDeps and hand it to NewIdentityHandlers and NewAuthenticator,
// so that the hash bound holds across all of them. It is safe for
// concurrent use.
type IdentityDeps struct {
	cfg    IdentityConfig
	w      Writer
	hashes chan struct{}
	// dummyHash is verified against when an email is unknown, so that a
	// login takes as long whether or not the account exists.
	dummyHash string
}

// NewIdentityDeps returns the dependencies of the identity handlers. It
// fails when cfg, with its defaults, cannot work.
func NewIdentityDeps(cfg IdentityConfig) (*IdentityDeps, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	dummy, err := auth.HashPassword("not-a-password-of-anyone")
	if err != nil {
		return nil, err
	}
	return &IdentityDeps{cfg: cfg, w: Writer{Store: cfg.Store, NowFunc: cfg.NowFunc}, hashes: make(chan struct{}, cfg.MaxConcurrentHashes), dummyHash: dummy}, nil
}

// UserIDFor returns the id of the user with a normalized email address: it
// derives from the address, so that the user stream's first append at seq 0
// is what makes an address unique.
func UserIDFor(email string) string { return derivedID("user", email).String() }

// APIKeyIDFor returns the id of the API key with a prefix.
func APIKeyIDFor(prefix string) string { return derivedID("api_key", prefix).String() }

// load applies the identity stream streamID of type want to agg (see
// Load); a stream of another type (an id that names a task, say) leaves
// agg empty, as no stream does.
func (d *IdentityDeps) load(ctx context.Context, want domain.StreamType, streamID string, agg Aggregate) error {
	return Load(ctx, d.w.Store, eventstore.Stream{ID: streamID, Type: want}, agg)
}

// appendOne appends the event of payload p to a stream at expectedSeq.
func (d *IdentityDeps) appendOne(ctx context.Context, stream eventstore.Stream, expectedSeq int64, p domain.Payload, meta domain.Metadata) error {
	_, err := d.w.Append(ctx, Target{Stream: stream, Meta: meta}, expectedSeq, p)
	return err
}

// hashPassword hashes with Argon2id, at most MaxConcurrentHashes at once.
func (d *IdentityDeps) hashPassword(ctx context.Context, password string) (string, error) {
	if err := d.acquireHash(ctx); err != nil {
		return "", err
	}
	defer func() { <-d.hashes }()
	return auth.HashPassword(password)
}

// verifyPassword checks a password, at most MaxConcurrentHashes at once.
func (d *IdentityDeps) verifyPassword(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if err := d.acquireHash(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-d.hashes }()
	return auth.VerifyPassword(encoded, password)
}

func (d *IdentityDeps) acquireHash(ctx context.Context) error {
	select {
	case d.hashes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hexHash renders a token or secret hash the way identity events store it.
func hexHash(h []byte) string { return hex.EncodeToString(h) }
