package domain

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// Session refresh failures.
var (
	// ErrSessionEnded: the session was revoked or has expired; sign in again.
	ErrSessionEnded = errors.New("the session has ended; sign in again")
	// ErrRefreshTokenReused: a refresh token that was already used came
	// back, so it leaked; the session must be revoked.
	ErrRefreshTokenReused = errors.New("the refresh token was already used")
	// ErrRefreshTokenUnknown: the token is not one of the session's.
	ErrRefreshTokenUnknown = errors.New("the refresh token is not valid")
)

// Session is a login: one family of refresh tokens, each used once. The
// zero value is a session whose stream is empty.
type Session struct {
	seq       int64
	tenantID  string
	userID    string
	expiresAt time.Time
	current   string
	used      []string
	revoked   bool
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (s *Session) Seq() int64 { return s.seq }

// Exists reports whether the session has started.
func (s *Session) Exists() bool { return s.seq > 0 }

// TenantID and UserID say who the session signs in, and where.
func (s *Session) TenantID() string { return s.tenantID }

// UserID returns the session's user.
func (s *Session) UserID() string { return s.userID }

// ExpiresAt returns when the session ends at the latest.
func (s *Session) ExpiresAt() time.Time { return s.expiresAt }

// Revoked reports whether the session was revoked.
func (s *Session) Revoked() bool { return s.revoked }

// Apply evolves the session by one stored event.
func (s *Session) Apply(e Event) error {
	var allowed []EventType
	switch {
	case s.seq == 0:
		allowed = []EventType{SessionStartedType}
	case !s.revoked:
		allowed = []EventType{SessionRefreshedType, SessionRevokedType}
	}
	p, err := applyNext("session", s.seq, e, allowed...)
	if err != nil {
		return err
	}
	switch p := p.(type) {
	case *SessionStarted:
		exp, err := ParseTime(p.ExpiresAt)
		if err != nil {
			return fmt.Errorf("apply session.started: expires_at: %w", err)
		}
		s.tenantID = e.TenantID
		s.userID = p.UserID
		s.expiresAt = exp
		s.current = p.TokenHash
	case *SessionRefreshed:
		s.used = append(s.used, s.current)
		s.current = p.TokenHash
	case *SessionRevoked:
		s.revoked = true
	}
	s.seq = e.Seq
	return nil
}

// CheckRefresh decides on a refresh with the token whose hash (lowercase
// hex) is tokenHash, at now. nil: the token is the current one and may be
// exchanged. ErrRefreshTokenReused: it was used before (revoke the
// session). ErrSessionEnded or ErrRefreshTokenUnknown: refuse.
func (s *Session) CheckRefresh(tokenHash string, now time.Time) error {
	switch {
	case !s.Exists():
		return ErrRefreshTokenUnknown
	case s.revoked || !now.Before(s.expiresAt):
		return ErrSessionEnded
	case equalHex(tokenHash, s.current):
		return nil
	}
	for _, u := range s.used {
		if equalHex(tokenHash, u) {
			return ErrRefreshTokenReused
		}
	}
	return ErrRefreshTokenUnknown
}

// DecideRevoke returns the event that ends the session, with reason; none
// when it has ended already.
func (s *Session) DecideRevoke(reason string) ([]Payload, error) {
	if s.revoked {
		return nil, nil
	}
	return []Payload{&SessionRevoked{Reason: reason}}, nil
}

// equalHex compares two token hashes in constant time.
func equalHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
