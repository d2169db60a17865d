package domain

import (
	"fmt"
	"unicode/utf8"
)

// MaxIdentifierLen bounds stream ids, tenant ids and event type names.
const MaxIdentifierLen = 200

// ValidateIdentifier checks a value that is written into a hashed entry line:
// non-empty, valid UTF-8, at most MaxIdentifierLen bytes, and free of control
// characters (which could forge extra entry lines).
func ValidateIdentifier(field, s string) error {
	if s == "" {
		return &ValidationError{Field: field, Reason: "must not be empty"}
	}
	if len(s) > MaxIdentifierLen {
		return &ValidationError{Field: field, Reason: fmt.Sprintf("is %d bytes long; the limit is %d", len(s), MaxIdentifierLen)}
	}
	if !utf8.ValidString(s) {
		return &ValidationError{Field: field, Reason: "must be valid UTF-8"}
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return &ValidationError{Field: field, Reason: fmt.Sprintf("contains control character U+%04X at byte %d; remove it", r, i)}
		}
	}
	return nil
}
