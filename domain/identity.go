package domain

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Limits of identity input.
const (
	// MaxEmailLen is the longest email address accepted (RFC 5321's path limit).
	MaxEmailLen = 254
	// MaxTenantNameLen and MaxAPIKeyNameLen bound display names, in bytes.
	MaxTenantNameLen = 100
	MaxAPIKeyNameLen = 100
)

// NormalizeEmail validates an email address and returns its normal form:
// surrounding space trimmed, lower-cased. Two addresses that differ only in
// case are one account. Errors are *ValidationError for field "email".
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", &ValidationError{Field: "email", Reason: "must be set to your email address"}
	}
	if len(s) > MaxEmailLen || !utf8.ValidString(s) {
		return "", &ValidationError{Field: "email", Reason: fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxEmailLen)}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || strings.Count(s, "@") != 1 {
		return "", &ValidationError{Field: "email", Reason: "is not an email address; write it as name@example.com, without a display name"}
	}
	return s, nil
}

// ValidateDisplayName checks a human-readable name (a tenant's, an API
// key's): not blank, at most limit bytes, no control characters.
func ValidateDisplayName(field, s string, limit int) error {
	if len(s) > limit {
		return &ValidationError{Field: field, Reason: fmt.Sprintf("is %d bytes long; the limit is %d", len(s), limit)}
	}
	if err := ValidateIdentifier(field, s); err != nil {
		return err
	}
	if strings.TrimSpace(s) == "" {
		return &ValidationError{Field: field, Reason: "must not be blank"}
	}
	return nil
}

// applyNext checks that e may be applied to an aggregate at seq whose
// allowed next event types are allowed, and decodes its payload. A pruned
// payload (nil) cannot rebuild an identity aggregate: identity streams are
// never pruned.
func applyNext(kind string, seq int64, e Event, allowed ...EventType) (any, error) {
	if e.Seq != seq+1 {
		return nil, fmt.Errorf("apply seq %d to %s at seq %d: events must be applied in order without gaps", e.Seq, kind, seq)
	}
	ok := false
	for _, t := range allowed {
		ok = ok || t == e.Type
	}
	if !ok {
		return nil, fmt.Errorf("apply %s to %s at seq %d: this event may not follow", e.Type, kind, seq)
	}
	if e.Payload == nil {
		return nil, fmt.Errorf("apply %s to %s at seq %d: the payload was pruned; identity streams must keep theirs", e.Type, kind, seq)
	}
	return Decode(e.Type, e.Payload)
}
