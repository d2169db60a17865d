package api

import (
	"fmt"
	"log/slog"
)

// SetSecretRequest is the body of POST /v1/secrets: it creates the secret
// Name, or replaces the value of the one of that name (a rotation).
// String and LogValue leave the value out.
type SetSecretRequest struct {
	Name string `json:"name"`
	// Value is write-only: no answer ever shows it.
	Value string `json:"value"`
}

// String describes r without its value, so that printing or logging it
// leaks nothing.
func (r SetSecretRequest) String() string {
	return fmt.Sprintf("{secret %s, value redacted}", r.Name)
}

// LogValue logs r as String does (slog.LogValuer).
func (r SetSecretRequest) LogValue() slog.Value { return slog.StringValue(r.String()) }

// Secret describes a tenant secret; no answer holds its value.
type Secret struct {
	Name      string `json:"name"`
	CreatedAt Time   `json:"created_at"`
	// UpdatedAt is when the value was last set.
	UpdatedAt Time `json:"updated_at"`
	// LastUsedAt is when a worker last resolved it for a task; absent if
	// never.
	LastUsedAt Time `json:"last_used_at,omitzero"`
	// Rotated is, in the answer of POST /v1/secrets, whether the call
	// replaced the value of an existing secret (false: it created it).
	Rotated bool `json:"rotated,omitempty"`
}

// SecretList answers GET /v1/secrets: the tenant's secrets by name.
type SecretList struct {
	Secrets []Secret `json:"secrets"`
}
