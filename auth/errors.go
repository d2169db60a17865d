package auth

import "errors"

// InputError says which caller-supplied field breaks which rule and how to
// fix it. The HTTP layer turns it into a 400 problem naming Field.
type InputError struct {
	// Field is the request field at fault, for example "password".
	Field string
	// Rule is a stable, machine-readable name of the broken rule, for
	// example "min_length".
	Rule string
	// Reason says what is wrong and how to fix it, without the value.
	Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// Rules reported in [InputError.Rule].
const (
	RuleMinLength = "min_length" // the value is too short
	RuleMaxLength = "max_length" // the value is too long
	RuleRequired  = "required"   // the value is missing
	RuleMaxItems  = "max_items"  // the list has too many items
	RuleUnknown   = "unknown"    // the value is not one of the allowed values
)

var (
	// ErrMalformedHash is returned when a stored password hash cannot be
	// parsed or has parameters outside the accepted bounds. It points at a
	// corrupt or foreign row, not at a wrong password.
	ErrMalformedHash = errors.New("stored password hash is malformed")

	// ErrInvalidToken is returned (wrapped, with the reason) for every access
	// token that Verify rejects. The HTTP layer answers 401.
	ErrInvalidToken = errors.New("invalid access token")

	// ErrTokenExpired is returned, wrapped together with [ErrInvalidToken],
	// for an access token that was valid but has expired: the client should
	// use its refresh token.
	ErrTokenExpired = errors.New("access token has expired")

	// ErrMalformedAPIKey is returned by [ParseAPIKey] for a string that is not
	// an AxonTask API key.
	ErrMalformedAPIKey = errors.New("malformed API key")

	// ErrMalformedRefreshToken is returned by [ParseRefreshToken] for a
	// string that is not an AxonTask refresh token.
	ErrMalformedRefreshToken = errors.New("malformed refresh token")
)
