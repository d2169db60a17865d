package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/axontask/axontask/domain"
)

// Access token limits.
const (
	// MaxTokenLength is the longest access token Verify reads, in bytes.
	// Tokens this package issues are far shorter.
	MaxTokenLength = 4096
	// MaxExpiry is the longest access token lifetime an Issuer accepts.
	// Access tokens are short-lived; sessions last through refresh tokens.
	MaxExpiry = 24 * time.Hour
	// maxLeeway bounds the clock skew tolerance.
	maxLeeway = 5 * time.Minute
	// maxIDLength bounds user and tenant ids, in bytes.
	maxIDLength = 128
	// maxClaimText bounds issuer and audience, in bytes.
	maxClaimText = 256
)

// IssuerConfig configures an [Issuer].
type IssuerConfig struct {
	// Keys signs (current key) and verifies (every key) tokens. Required.
	Keys *Keyring
	// Issuer is the "iss" claim written and required, e.g. the public base
	// URL. Required.
	Issuer string
	// Audience is the "aud" claim written and required. Required.
	Audience string
	// Expiry is how long a token is valid after it is issued, from
	// JWT_EXPIRY_SECONDS. Between 1 second and [MaxExpiry].
	Expiry time.Duration
	// Leeway is the clock skew tolerated on exp, nbf and iat between the
	// instances that issue and verify. Zero means none; at most 5 minutes.
	Leeway time.Duration
	// NowFunc returns the current time. Nil means time.Now; tests inject a
	// fixed clock.
	NowFunc func() time.Time
}

func (c *IssuerConfig) validate() error {
	switch {
	case c.Keys == nil:
		return errors.New("issuer config has no keyring; set Keys")
	case c.Issuer == "" || len(c.Issuer) > maxClaimText:
		return fmt.Errorf("issuer config Issuer must be 1 to %d bytes", maxClaimText)
	case c.Audience == "" || len(c.Audience) > maxClaimText:
		return fmt.Errorf("issuer config Audience must be 1 to %d bytes", maxClaimText)
	case c.Expiry < time.Second || c.Expiry > MaxExpiry:
		return fmt.Errorf("issuer config Expiry is %s; set JWT_EXPIRY_SECONDS between 1 and %d", c.Expiry, int(MaxExpiry/time.Second))
	case c.Leeway < 0 || c.Leeway > maxLeeway:
		return fmt.Errorf("issuer config Leeway is %s; use 0 to %s", c.Leeway, maxLeeway)
	}
	return nil
}

// Issuer issues and verifies HS256 access tokens. It is safe for concurrent
// use.
type Issuer struct {
	cfg       IssuerConfig
	apiParser *jwt.Parser
	// anyParser checks no audience; VerifyDelegated with an empty one.
	anyParser *jwt.Parser
}

// NewIssuer checks cfg and returns an Issuer.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	i := &Issuer{cfg: cfg}
	i.apiParser = i.parser(cfg.Audience)
	i.anyParser = i.parser("")
	return i, nil
}

// parser returns the parser of tokens for audience.
// An empty audience is not checked.
func (i *Issuer) parser(audience string) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(i.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(i.cfg.Leeway),
		jwt.WithTimeFunc(i.cfg.NowFunc),
		jwt.WithStrictDecoding(),
	}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	return jwt.NewParser(opts...)
}

// Claims are what a verified access token says.
type Claims struct {
	// UserID is the "sub" claim.
	UserID string
	// TenantID is the tenant the token acts in.
	TenantID string
	// Role is the user's role in that tenant when the token was issued.
	Role domain.Role
	// TokenID is the "jti" claim, unique per token.
	TokenID string
	// Issuer and Audience are the "iss" and "aud" claims checked.
	Issuer   string
	Audience string
	// ClientID and Scope are set in a delegated token only (see
	// IssueDelegated): the OAuth client it was issued to and the
	// space-separated scopes the user granted it (RFC 9068's claims).
	ClientID string
	Scope    string
	// GrantID is set in a delegated token only: the OAuth authorization
	// it was issued under, so that revoking the authorization ends the
	// token at once.
	GrantID string
	// IssuedAt, NotBefore and ExpiresAt are "iat", "nbf" and "exp", whole
	// seconds.
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
}

// tokenClaims is the JSON payload of an access token.
type tokenClaims struct {
	TenantID string      `json:"tenant_id"`
	Role     domain.Role `json:"role"`
	ClientID string      `json:"client_id,omitempty"`
	Scope    string      `json:"scope,omitempty"`
	GrantID  string      `json:"grant_id,omitempty"`
	jwt.RegisteredClaims
}

// Issue signs an access token for userID acting in tenantID with role, using
// the keyring's current key (its kid is in the header). It returns the token
// and when it expires; times are whole seconds. userID and tenantID must be 1
// to 128 bytes and role one of the known roles.
func (i *Issuer) Issue(userID, tenantID string, role domain.Role) (token string, expiresAt time.Time, err error) {
	return i.issue(userID, tenantID, role, Delegation{Audience: i.cfg.Audience})
}

// Delegation is what a delegated access token carries besides its user:
// the resource it is bound to (its audience, RFC 8707), the OAuth client it
// was issued to and the scopes the user granted that client.
type Delegation struct {
	// Audience is the resource's URL, e.g. https://axontask.example/mcp;
	// 1 to 256 bytes, and never the API's own audience.
	Audience string
	// ClientID is the OAuth client's id; 1 to 256 bytes.
	ClientID string
	// Scope is space-separated scopes; at most 256 bytes.
	Scope string
	// GrantID is the authorization (OAuth grant) the token is issued
	// under; 1 to 256 bytes.
	GrantID string
}

// IssueDelegated signs an access token for userID acting in tenantID with
// role on behalf of an OAuth client, bound to d.Audience: Verify refuses
// it (its audience is not the API's), VerifyDelegated with the same
// audience accepts it.
func (i *Issuer) IssueDelegated(userID, tenantID string, role domain.Role, d Delegation) (token string, expiresAt time.Time, err error) {
	switch {
	case d.Audience == "" || len(d.Audience) > maxClaimText || d.Audience == i.cfg.Audience:
		return "", time.Time{}, fmt.Errorf("issue delegated access token: the audience must be 1 to %d bytes and not the API's", maxClaimText)
	case d.ClientID == "" || len(d.ClientID) > maxClaimText || len(d.Scope) > maxClaimText || d.GrantID == "" || len(d.GrantID) > maxClaimText:
		return "", time.Time{}, fmt.Errorf("issue delegated access token: client id and grant id must be 1 to %d bytes, scope at most %d", maxClaimText, maxClaimText)
	}
	return i.issue(userID, tenantID, role, d)
}

// VerifyDelegated checks a token IssueDelegated made for audience, as
// Verify checks the API's, and that it names its client. A token for
// another audience (another resource, or the API) fails with
// [ErrInvalidToken]. An empty audience accepts a delegated token of any
// audience: only for a request whose token was checked against its
// resource already (the MCP tools' calls to the API behind /mcp).
func (i *Issuer) VerifyDelegated(token, audience string) (Claims, error) {
	if audience == i.cfg.Audience {
		return Claims{}, invalid("cannot be checked against the API's audience")
	}
	parser := i.anyParser
	if audience != "" {
		parser = i.parser(audience)
	}
	c, err := i.verify(token, parser)
	if err != nil {
		return Claims{}, err
	}
	if c.ClientID == "" || c.GrantID == "" {
		return Claims{}, invalid("names no OAuth client (client_id) or authorization (grant_id)")
	}
	return c, nil
}

func (i *Issuer) issue(userID, tenantID string, role domain.Role, d Delegation) (token string, expiresAt time.Time, err error) {
	if userID == "" || len(userID) > maxIDLength {
		return "", time.Time{}, fmt.Errorf("issue access token: user id must be 1 to %d bytes", maxIDLength)
	}
	if tenantID == "" || len(tenantID) > maxIDLength {
		return "", time.Time{}, fmt.Errorf("issue access token: tenant id must be 1 to %d bytes", maxIDLength)
	}
	if _, err := domain.ParseRole(string(role)); err != nil {
		return "", time.Time{}, fmt.Errorf("issue access token: %w", err)
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("issue access token: read random token id: %w", err)
	}
	now := i.cfg.NowFunc().Truncate(time.Second)
	expiresAt = now.Add(i.cfg.Expiry).Truncate(time.Second)
	claims := tokenClaims{
		TenantID: tenantID,
		Role:     role,
		ClientID: d.ClientID,
		Scope:    d.Scope,
		GrantID:  d.GrantID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.cfg.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{d.Audience},
			ExpiresAt: jwt.NewNumericDate(expiresAt),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	kid := i.cfg.Keys.CurrentKID()
	t.Header["kid"] = kid
	key, _ := i.cfg.Keys.key(kid)
	token, err = t.SignedString(key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue access token: sign with key %q: %w", kid, err)
	}
	return token, expiresAt, nil
}

// Reasons Verify gives, after [ErrInvalidToken].
var (
	errUnknownKID = errors.New("was signed with an unknown key id; sign in again")
	errNoKID      = errors.New("has no key id (kid) header; sign in again")
)

// Verify checks token and returns its claims. It accepts only HS256 tokens
// no longer than [MaxTokenLength], signed by a key in the keyring (found by
// the kid header), with the configured issuer and audience, and with exp,
// nbf and iat such that the token is valid now (within Leeway), plus a
// subject, tenant id, known role and token id.
//
// Every failure wraps [ErrInvalidToken]; an expired token also wraps
// [ErrTokenExpired]. The error says why, but never contains the token or a
// secret.
func (i *Issuer) Verify(token string) (Claims, error) {
	c, err := i.verify(token, i.apiParser)
	if err == nil && c.ClientID != "" {
		return Claims{}, invalid("is an OAuth client's; use it at the resource it was issued for")
	}
	return c, err
}

func (i *Issuer) verify(token string, parser *jwt.Parser) (Claims, error) {
	if len(token) > MaxTokenLength {
		return Claims{}, invalid(fmt.Sprintf("is longer than %d bytes", MaxTokenLength))
	}
	var tc tokenClaims
	_, err := parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		raw, present := t.Header["kid"]
		if !present {
			return nil, errNoKID
		}
		kid, ok := raw.(string)
		if !ok {
			return nil, errUnknownKID
		}
		key, ok := i.cfg.Keys.key(kid)
		if !ok {
			return nil, errUnknownKID
		}
		return key, nil
	})
	if err != nil {
		return Claims{}, classify(err)
	}
	switch {
	case tc.Subject == "" || len(tc.Subject) > maxIDLength:
		return Claims{}, invalid("has no valid subject (user id)")
	case tc.TenantID == "" || len(tc.TenantID) > maxIDLength:
		return Claims{}, invalid("has no valid tenant_id")
	case tc.ID == "":
		return Claims{}, invalid("has no token id (jti)")
	case len(tc.Audience) != 1:
		return Claims{}, invalid("must name exactly one audience (aud)")
	case tc.IssuedAt == nil:
		return Claims{}, invalid("has no issued-at time (iat)")
	}
	if _, err := domain.ParseRole(string(tc.Role)); err != nil {
		return Claims{}, invalid("has no valid role")
	}
	return Claims{
		UserID:    tc.Subject,
		TenantID:  tc.TenantID,
		Role:      tc.Role,
		TokenID:   tc.ID,
		Issuer:    tc.Issuer,
		Audience:  tc.Audience[0],
		ClientID:  tc.ClientID,
		Scope:     tc.Scope,
		GrantID:   tc.GrantID,
		IssuedAt:  tc.IssuedAt.Time,
		NotBefore: tc.NotBefore.Time,
		ExpiresAt: tc.ExpiresAt.Time,
	}, nil
}

func invalid(reason string) error {
	return fmt.Errorf("%w: the token %s", ErrInvalidToken, reason)
}

// classify turns a jwt error into ours, keeping only a fixed reason: the
// library's messages are not wrapped, so nothing from the token leaks.
func classify(err error) error {
	switch {
	case errors.Is(err, errNoKID):
		return invalid(errNoKID.Error())
	case errors.Is(err, errUnknownKID):
		return invalid(errUnknownKID.Error())
	case errors.Is(err, jwt.ErrTokenMalformed):
		return invalid("is malformed; send the access_token exactly as it was issued")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return invalid("has an invalid signature or an algorithm other than HS256; sign in again")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return invalid("cannot be verified; sign in again")
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return invalid("was issued by another issuer; sign in to this server")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return invalid("is meant for another audience; sign in to this server")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return invalid("lacks a required claim (exp, nbf, iss or aud); sign in again")
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return invalid("is not valid yet; check the clocks of client and server")
	case errors.Is(err, jwt.ErrTokenExpired):
		return fmt.Errorf("%w: %w; get a new one with the refresh token", ErrInvalidToken, ErrTokenExpired)
	}
	return invalid("was rejected; sign in again")
}
