package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// MaxSecretNameLen bounds a tenant secret's name.
const MaxSecretNameLen = 128

// ValidSecretName reports whether name may name a tenant secret: letters,
// digits and underscores, not starting with a digit, at most
// [MaxSecretNameLen] bytes (FLY_TOKEN, registry_password).
func ValidSecretName(name string) bool {
	return len(name) <= MaxSecretNameLen && ValidEnvName(name)
}

// SecretString is an adapter argument that is either a literal string or a
// reference to one of the tenant's secrets, written {"secret": "NAME"} in
// place of the string. The log records what was written — the reference,
// never the secret's value, which only the worker resolves at run time
// ([SecretString.Resolve]).
type SecretString struct {
	// Literal is the string given in the clear (when Ref is empty).
	Literal string
	// Ref names the tenant secret whose value this is, or is empty.
	Ref string
}

// Lit returns the literal s as a SecretString.
func Lit(s string) SecretString { return SecretString{Literal: s} }

// UnmarshalJSON accepts a JSON string or {"secret": "NAME"}, and nothing
// else (no other member, the name valid). Anything else is a
// *json.UnmarshalTypeError of type SecretString whose Value says what was
// given, so that a decoder names the field it is in.
func (s *SecretString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) { // as encoding/json leaves a string: unset
		*s = SecretString{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		*s = SecretString{}
		return json.Unmarshal(b, &s.Literal)
	}
	bad := func(what string) error {
		return &json.UnmarshalTypeError{Value: what, Type: reflect.TypeFor[SecretString]()}
	}
	if len(b) == 0 || b[0] != '{' {
		return bad(jsonKindOf(b) + ` (a secret reference is {"secret": "NAME"})`)
	}
	if err := checkMembers(b, []string{"secret"}); err != nil {
		return bad(`an object with members besides one "secret" (a secret reference has no other member)`)
	}
	var ref struct {
		Secret *string `json:"secret"`
	}
	if err := json.Unmarshal(b, &ref); err != nil || ref.Secret == nil {
		return bad(`an object without a "secret" name (a secret reference is {"secret": "NAME"})`)
	}
	if !ValidSecretName(*ref.Secret) {
		return bad(fmt.Sprintf("a reference to secret %q, which is not a valid secret name (letters, digits and _, not starting with a digit, at most %d bytes)", *ref.Secret, MaxSecretNameLen))
	}
	*s = SecretString{Ref: *ref.Secret}
	return nil
}

// jsonKindOf names the kind of the JSON value b.
func jsonKindOf(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '[':
		return "an array"
	case b[0] == 't' || b[0] == 'f':
		return "a boolean"
	case b[0] == 'n':
		return "null"
	default:
		return "a number"
	}
}

// MarshalJSON writes s as it was given: a string, or {"secret": "NAME"}.
func (s SecretString) MarshalJSON() ([]byte, error) {
	if s.Ref != "" {
		return json.Marshal(map[string]string{"secret": s.Ref})
	}
	return json.Marshal(s.Literal)
}

// IsRef reports whether s refers to a secret.
func (s SecretString) IsRef() bool { return s.Ref != "" }

// Resolve returns s's value: the literal, or the value of the secret it
// refers to in secrets (a task's resolved secrets, see [SecretReferrer]).
// A reference missing from secrets is an error naming the secret.
func (s SecretString) Resolve(secrets map[string]string) (string, error) {
	if s.Ref == "" {
		return s.Literal, nil
	}
	v, ok := secrets[s.Ref]
	if !ok {
		return "", fmt.Errorf("secret %q does not exist in this tenant; create it with POST /v1/secrets or `axontask secret set %s`", s.Ref, s.Ref)
	}
	return v, nil
}

// SecretReferrer is implemented by adapter arguments that may refer to
// tenant secrets. The worker resolves the names SecretRefs returns just
// before a run, hands their values to the executor (executors.Task's
// Secrets) and masks them in the task's output.
type SecretReferrer interface {
	// SecretRefs returns the names of the secrets the arguments refer to,
	// each once, sorted.
	SecretRefs() []string
}

// SecretEnv are environment variables whose values are strings or secret
// references. Decoding names the variable whose value is neither.
type SecretEnv map[string]SecretString

// UnmarshalJSON decodes a JSON object of strings or secret references; a
// bad value is a *ValidationError naming args.env.NAME.
func (e *SecretEnv) UnmarshalJSON(b []byte) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return &ValidationError{Field: "args.env", Reason: `must be an object of strings or secret references, like {"CI": "1", "TOKEN": {"secret": "TOKEN"}}`}
	}
	if members == nil {
		*e = nil
		return nil
	}
	m := make(SecretEnv, len(members))
	for _, k := range slices.Sorted(maps.Keys(members)) {
		var v SecretString
		if err := v.UnmarshalJSON(members[k]); err != nil {
			return &ValidationError{Field: "args.env." + k, Reason: secretStringReason(err)}
		}
		m[k] = v
	}
	*e = m
	return nil
}

// Refs returns the names of the secrets e refers to, each once, sorted.
func (e SecretEnv) Refs() []string {
	var names []string
	for _, v := range e {
		if v.IsRef() {
			names = append(names, v.Ref)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Resolve returns e with every secret reference replaced by its value in
// secrets (a task's resolved secrets); a reference missing from secrets is
// an error naming the variable and the secret.
func (e SecretEnv) Resolve(secrets map[string]string) (map[string]string, error) {
	env := make(map[string]string, len(e))
	for k, v := range e {
		s, err := v.Resolve(secrets)
		if err != nil {
			return nil, fmt.Errorf("args.env.%s: %w", k, err)
		}
		env[k] = s
	}
	return env, nil
}

// validate checks what every adapter asks of args.env: at most
// MaxEnvVars variables, valid names, literals of at most MaxArgBytes
// without NUL. Errors name the variable, in name order.
func (e SecretEnv) validate() error {
	if len(e) > MaxEnvVars {
		return &ValidationError{Field: "args.env", Reason: fmt.Sprintf("has %d variables; the limit is %d", len(e), MaxEnvVars)}
	}
	for _, k := range slices.Sorted(maps.Keys(e)) { // sorted: the same input names the same error
		if !ValidEnvName(k) {
			return &ValidationError{Field: "args.env", Reason: fmt.Sprintf("name %q must match [A-Za-z_][A-Za-z0-9_]*", k)}
		}
		if v := e[k].Literal; len(v) > MaxArgBytes || strings.ContainsRune(v, 0) {
			return &ValidationError{Field: "args.env." + k, Reason: fmt.Sprintf("must be at most %d bytes without NUL", MaxArgBytes)}
		}
	}
	return nil
}

// secretStringReason says why a value is not a SecretString, from the
// error of its UnmarshalJSON.
func secretStringReason(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return fmt.Sprintf(`must be a string or a secret reference like {"secret": "NAME"}; got %s`, typeErr.Value)
	}
	return err.Error()
}
