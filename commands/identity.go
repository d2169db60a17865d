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
	// ErrUserNotFound: no user with this email address (404 to admins only).
	ErrUserNotFound = errors.New("no user with this email address; they must register first")
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

// IdentityStore is what Identity needs of the event store.
type IdentityStore interface {
	StreamReader
	EventAppender
	// ListStreams lists a tenant's streams of one type (eventstore.Store).
	ListStreams(ctx context.Context, tenantID string, streamType domain.StreamType, afterStreamID string, limit int) ([]string, error)
	// APIKeyUsageTouch and APIKeyUsageGet keep API keys' last use (eventstore.APIKeyUsageStore).
	APIKeyUsageTouch(ctx context.Context, uses map[string]time.Time) error
	APIKeyUsageGet(ctx context.Context, keyIDs []string) (map[string]time.Time, error)
}

// IdentityConfig configures an Identity.
type IdentityConfig struct {
	// Store keeps the identity streams; required.
	Store IdentityStore
	// Issuer signs and verifies access tokens; required.
	Issuer *auth.Issuer
	// SessionTTL is how long a login's refresh tokens work (default
	// DefaultSessionTTL).
	SessionTTL time.Duration
	// MaxConcurrentHashes bounds Argon2id hashes running at once, each
	// using about 19 MiB and 25 ms of a core (default GOMAXPROCS).
	MaxConcurrentHashes int
	// UsageFlushInterval is how often API keys' last use is written
	// (default 30 s).
	UsageFlushInterval time.Duration
	// NowFunc gives the time (default time.Now).
	NowFunc func() time.Time
	// Logger receives flush failures (default slog.Default()).
	Logger *slog.Logger
}

// Identity handles the identity commands (register, login, refresh, logout,
// API keys, members) and authenticates bearer credentials. It is safe for
// concurrent use. Run its usage flusher with Run.
type Identity struct {
	cfg    IdentityConfig
	w      Writer
	hashes chan struct{}
	usage  *keyUsage
	// dummyHash is verified against when an email is unknown, so that a
	// login takes as long whether or not the account exists.
	dummyHash string
}

// NewIdentity returns an Identity. It fails when cfg cannot work.
func NewIdentity(cfg IdentityConfig) (*Identity, error) {
	if cfg.Store == nil || cfg.Issuer == nil {
		return nil, errors.New("identity config: Store and Issuer are required")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MaxConcurrentHashes == 0 {
		cfg.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if cfg.UsageFlushInterval == 0 {
		cfg.UsageFlushInterval = 30 * time.Second
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionTTL < time.Minute || cfg.MaxConcurrentHashes < 1 || cfg.UsageFlushInterval < 0 {
		return nil, fmt.Errorf("identity config: SessionTTL (%s) must be at least a minute, MaxConcurrentHashes (%d) and UsageFlushInterval (%s) positive",
			cfg.SessionTTL, cfg.MaxConcurrentHashes, cfg.UsageFlushInterval)
	}
	dummy, err := auth.HashPassword("not-a-password-of-anyone")
	if err != nil {
		return nil, err
	}
	return &Identity{cfg: cfg, w: Writer{Store: cfg.Store, NowFunc: cfg.NowFunc}, hashes: make(chan struct{}, cfg.MaxConcurrentHashes), usage: newKeyUsage(), dummyHash: dummy}, nil
}

// Principal is who makes a request: a user through an access token, or an
// API key. It is the only input that authorizes a command.
type Principal struct {
	// TenantID is the tenant the request acts in.
	TenantID string
	// UserID is the user (for a key: the user who created it).
	UserID string
	// KeyID is the API key's id; empty for an access token.
	KeyID string
	// Role is the user's role: when the access token was issued, or for a
	// key its creator's role now.
	Role domain.Role
	// Scopes are the API key's scopes; nil for an access token.
	Scopes domain.Scopes
}

// Can reports whether the principal may take action a in its tenant. A key
// may do what its scopes allow and its creator may still do.
func (p Principal) Can(a domain.Action) bool {
	if p.KeyID != "" {
		return p.Scopes.Can(a) && p.Role.Can(a)
	}
	return p.Role.Can(a)
}

// canGrant reports whether the principal may create a key with scope s: a
// key never gets more than its creator could do.
func (p Principal) canGrant(s domain.Scope) bool {
	if p.KeyID != "" {
		return p.Scopes.Has(domain.ScopeAdmin) && p.Role.CanGrant(s)
	}
	return p.Role.CanGrant(s)
}

// Actor names the principal in events' metadata: "user:<id>" or "api_key:<id>".
func (p Principal) Actor() string {
	if p.KeyID != "" {
		return "api_key:" + p.KeyID
	}
	return "user:" + p.UserID
}

// require fails with ErrForbidden unless p may take action a.
func (p Principal) require(a domain.Action) error {
	if !p.Can(a) {
		return fmt.Errorf("%w: %s may not %s; ask an owner or admin of the tenant", ErrForbidden, p.describe(), a)
	}
	return nil
}

func (p Principal) describe() string {
	if p.KeyID != "" {
		return "an API key with scopes [" + p.Scopes.String() + "] of a user with role " + string(p.Role)
	}
	return "a user with role " + string(p.Role)
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
func (id *Identity) load(ctx context.Context, want domain.StreamType, streamID string, agg Aggregate) error {
	return Load(ctx, id.w.Store, eventstore.Stream{ID: streamID, Type: want}, agg)
}

// appendOne appends the event of payload p to a stream at expectedSeq.
func (id *Identity) appendOne(ctx context.Context, stream eventstore.Stream, expectedSeq int64, p domain.Payload, meta domain.Metadata) error {
	_, err := id.w.Append(ctx, Target{Stream: stream, Meta: meta}, expectedSeq, p)
	return err
}

// hashPassword hashes with Argon2id, at most MaxConcurrentHashes at once.
func (id *Identity) hashPassword(ctx context.Context, password string) (string, error) {
	if err := id.acquireHash(ctx); err != nil {
		return "", err
	}
	defer func() { <-id.hashes }()
	return auth.HashPassword(password)
}

// verifyPassword checks a password, at most MaxConcurrentHashes at once.
func (id *Identity) verifyPassword(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if err := id.acquireHash(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-id.hashes }()
	return auth.VerifyPassword(encoded, password)
}

func (id *Identity) acquireHash(ctx context.Context) error {
	select {
	case id.hashes <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hexHash renders a token or secret hash the way identity events store it.
func hexHash(h []byte) string { return hex.EncodeToString(h) }
