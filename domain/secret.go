package domain

import (
	"bytes"
	"errors"
	"fmt"
)

// Tenant secret limits.
const (
	// MinSecretValueLen is the shortest secret value: shorter ones could
	// not be masked in output without masking ordinary text.
	MinSecretValueLen = 4
	// MaxSecretValueLen bounds a secret's value, in bytes.
	MaxSecretValueLen = 64 << 10
	// MaxSecretsPerTenant bounds a tenant's secrets (concurrent creations
	// may pass it by a few).
	MaxSecretsPerTenant = 100
)

// ErrSecretNotFound means the tenant has no secret of this name (404).
var ErrSecretNotFound = errors.New("secret not found")

// Secret event types. Like every event type they are hashed into the chain
// and never renamed. Their payloads name the secret and who acted, never
// its value.
const (
	SecretCreatedType EventType = "secret.created"
	SecretRotatedType EventType = "secret.rotated"
	SecretDeletedType EventType = "secret.deleted"
)

// SecretCreated records that a tenant secret was created (or created again
// after a delete).
type SecretCreated struct {
	CreatedBy string `json:"created_by"`
	Name      string `json:"name"`
}

// EventType returns SecretCreatedType.
func (SecretCreated) EventType() EventType { return SecretCreatedType }

// SecretRotated records that a secret's value was replaced.
type SecretRotated struct {
	Name      string `json:"name"`
	RotatedBy string `json:"rotated_by"`
}

// EventType returns SecretRotatedType.
func (SecretRotated) EventType() EventType { return SecretRotatedType }

// SecretDeleted records that a secret was deleted; a SecretCreated may
// follow (the name is set again).
type SecretDeleted struct {
	DeletedBy string `json:"deleted_by"`
	Name      string `json:"name"`
}

// EventType returns SecretDeletedType.
func (SecretDeleted) EventType() EventType { return SecretDeletedType }

// ValidateSecret checks a secret a tenant sets: its name (field "name",
// see ValidSecretName) and its value (field "value": MinSecretValueLen to
// MaxSecretValueLen bytes, no NUL byte, which no environment variable may
// hold). The errors never quote the value.
func ValidateSecret(name string, value []byte) error {
	if !ValidSecretName(name) {
		shown := name
		if len(shown) > MaxSecretNameLen {
			shown = shown[:MaxSecretNameLen] + "…"
		}
		return &ValidationError{Field: "name", Reason: fmt.Sprintf("%q is no secret name: use letters, digits and _, not starting with a digit, at most %d bytes (FLY_TOKEN)", shown, MaxSecretNameLen)}
	}
	switch n := len(value); {
	case n < MinSecretValueLen:
		return &ValidationError{Field: "value", Reason: fmt.Sprintf("is %d bytes; a secret is at least %d bytes, so that it can be masked in task output", n, MinSecretValueLen)}
	case n > MaxSecretValueLen:
		return &ValidationError{Field: "value", Reason: fmt.Sprintf("is %d bytes; the limit is %d (64 KiB)", n, MaxSecretValueLen)}
	case bytes.IndexByte(value, 0) >= 0:
		return &ValidationError{Field: "value", Reason: "contains a NUL byte, which no environment variable or argument can hold"}
	}
	return nil
}

// Secret is the aggregate of one tenant secret's name: its stream records
// each creation, rotation and deletion. The value is not in it. The zero
// value is a name whose stream is empty.
type Secret struct {
	seq    int64
	exists bool
}

// Seq returns the seq of the last applied event (0 for an empty stream).
func (s *Secret) Seq() int64 { return s.seq }

// Exists reports whether the secret was created and not deleted since.
func (s *Secret) Exists() bool { return s.exists }

// DecideSet decides what setting the secret's value by user by records: a
// creation, or a rotation of an existing secret.
func (s *Secret) DecideSet(name, by string) []Payload {
	if s.exists {
		return []Payload{&SecretRotated{Name: name, RotatedBy: by}}
	}
	return []Payload{&SecretCreated{CreatedBy: by, Name: name}}
}

// DecideDelete decides the deletion of the secret by user by:
// ErrSecretNotFound when it does not exist.
func (s *Secret) DecideDelete(name, by string) ([]Payload, error) {
	if !s.exists {
		return nil, ErrSecretNotFound
	}
	return []Payload{&SecretDeleted{DeletedBy: by, Name: name}}, nil
}

// Apply evolves the secret by one stored event.
func (s *Secret) Apply(e Event) error {
	allowed := []EventType{SecretCreatedType}
	if s.exists {
		allowed = []EventType{SecretRotatedType, SecretDeletedType}
	}
	p, err := applyNext("secret", s.seq, e, allowed...)
	if err != nil {
		return err
	}
	switch p.(type) {
	case *SecretCreated:
		s.exists = true
	case *SecretDeleted:
		s.exists = false
	}
	s.seq = e.Seq
	return nil
}
