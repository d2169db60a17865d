package eventstore

import (
	"context"
	"errors"
	"time"
)

// Errors of OAuthStore.
var (
	// ErrOAuthNotFound: no such client, code, refresh token or grant (or
	// it expired, or its grant was revoked).
	ErrOAuthNotFound = errors.New("oauth: not found, expired or revoked")
	// ErrOAuthReplayed: an authorization code was redeemed twice, or a
	// refresh token that was rotated away was presented again. The store
	// has revoked the grant (the whole refresh token family) before it
	// answers so.
	ErrOAuthReplayed = errors.New("oauth: code or refresh token used twice; the grant is revoked")
)

// OAuthClient is a client registered through dynamic client registration.
type OAuthClient struct {
	ID           string
	Name         string
	RedirectURIs []string
	CreatedAt    time.Time
}

// OAuthGrant is a user's authorization of a client: born with a one-time
// authorization code, it becomes a refresh token family when the code is
// redeemed. Only hashes of the code and the tokens are stored.
type OAuthGrant struct {
	ID            string
	TenantID      string
	UserID        string
	ClientID      string
	ClientName    string // filled by OAuthGrantList
	Scope         string // space-separated
	Resource      string // the RFC 8707 resource the tokens are bound to
	RedirectURI   string
	CodeChallenge string // PKCE S256 challenge
	CreatedAt     time.Time
}

// OAuthStore keeps OAuth's operational state (registered clients, codes,
// refresh token families) beside the log: one port, shared by every API
// process and kept across restarts. Both engines' stores implement it;
// eventstore/storetest.RunOAuth is its conformance suite. Each method is
// atomic and safe for concurrent use; replays are detected in the same
// statement that would have used the code or token, so two concurrent
// uses never both succeed.
type OAuthStore interface {
	// OAuthClientCreate stores a new client.
	OAuthClientCreate(ctx context.Context, c OAuthClient) error
	// OAuthClientGet returns a client, or ErrOAuthNotFound.
	OAuthClientGet(ctx context.Context, id string) (OAuthClient, error)
	// OAuthGrantCreate stores a grant with the hash of its authorization
	// code, valid until codeExpiresAt.
	OAuthGrantCreate(ctx context.Context, g OAuthGrant, codeHash []byte, codeExpiresAt time.Time) error
	// OAuthCodeRedeem uses the code whose hash is codeHash once, storing the
	// hash of the grant's first refresh token, and returns the grant. An
	// unknown or expired code fails with ErrOAuthNotFound; a code used
	// before revokes its grant and fails with ErrOAuthReplayed.
	OAuthCodeRedeem(ctx context.Context, codeHash, refreshHash []byte, refreshExpiresAt, now time.Time) (OAuthGrant, error)
	// OAuthRefreshRotate replaces grant id's refresh token oldHash by
	// newHash and returns the grant. A token rotated away before revokes
	// the grant and fails with ErrOAuthReplayed, for as long as its
	// successor's expiry (refreshExpiresAt of the rotation that replaced
	// it); an unknown grant, a token the grant never had (made up around its
	// id), an expired current token, a token rotated away whose successor
	// expired, or a revoked grant fail with ErrOAuthNotFound.
	OAuthRefreshRotate(ctx context.Context, id string, oldHash, newHash []byte, refreshExpiresAt, now time.Time) (OAuthGrant, error)
	// OAuthGrantRevoke revokes grant id, if userID (when not empty) owns
	// it; it reports whether a grant in force was revoked.
	OAuthGrantRevoke(ctx context.Context, id, userID string, now time.Time) (bool, error)
	// OAuthGrantInForce reports whether grant id is in force: its code
	// redeemed and the grant not revoked. Access tokens issued under a
	// grant are taken only while it is.
	OAuthGrantInForce(ctx context.Context, id string) (bool, error)
	// OAuthRefreshRevoke revokes grant id if refreshHash is the hash of
	// its current refresh token (RFC 7009 revocation by the token's
	// holder); it reports whether a grant in force was revoked. Any other
	// token (made up around a known grant id, rotated away) revokes
	// nothing.
	OAuthRefreshRevoke(ctx context.Context, id string, refreshHash []byte, now time.Time) (bool, error)
	// OAuthGrantList returns the user's grants in force at now (redeemed,
	// not revoked, their refresh token unexpired), newest first, at most
	// 100.
	OAuthGrantList(ctx context.Context, userID string, now time.Time) ([]OAuthGrant, error)
}
