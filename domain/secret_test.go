package domain_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
)

// TestShellArgsSecretRefs: args.env values may be secret references, which
// the args list once each and resolve from a task's secrets; a bad
// reference is a 400 naming its variable, and PATH must stay a string.
func TestShellArgsSecretRefs(t *testing.T) {
	t.Parallel()
	raw := `{"command":["deploy"],"env":{"TOKEN":{"secret":"FLY_TOKEN"},"AGAIN":{"secret":"FLY_TOKEN"},"PASS":{"secret":"DB_PASS"},"APP":"web"}}`
	args, err := domain.ParseArgs(domain.AdapterShell, json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	sh := args.(*domain.ShellArgs)
	var ref domain.SecretReferrer = sh
	if got := ref.SecretRefs(); !slices.Equal(got, []string{"DB_PASS", "FLY_TOKEN"}) {
		t.Fatalf("SecretRefs = %v", got)
	}
	env, err := sh.Env.Resolve(map[string]string{"FLY_TOKEN": "fo1_x", "DB_PASS": "pw-1234"})
	if err != nil || env["TOKEN"] != "fo1_x" || env["AGAIN"] != "fo1_x" || env["PASS"] != "pw-1234" || env["APP"] != "web" {
		t.Fatalf("Env.Resolve = %v, %v", env, err)
	}
	if _, err := sh.Env.Resolve(map[string]string{"FLY_TOKEN": "x"}); err == nil || !strings.Contains(err.Error(), `"DB_PASS"`) {
		t.Fatalf("ResolveEnv without DB_PASS = %v", err)
	}
	// The reference is what the log keeps: args marshal back as given.
	b, _ := json.Marshal(sh.Env["TOKEN"])
	if string(b) != `{"secret":"FLY_TOKEN"}` {
		t.Fatalf("a reference marshals as %s", b)
	}
	for body, field := range map[string]string{
		`{"command":["x"],"env":{"A":{"secret":"1BAD"}}}`:           "args.env.A",
		`{"command":["x"],"env":{"A":{"secret":"OK","more":true}}}`: "args.env.A",
		`{"command":["x"],"env":{"A":42}}`:                          "args.env.A",
		`{"command":["x"],"env":{"PATH":{"secret":"P"}}}`:           "args.env.PATH",
	} {
		_, err := domain.ParseArgs(domain.AdapterShell, json.RawMessage(body))
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("ParseArgs(%s) = %v, want a 400 naming %s", body, err, field)
		}
	}
}

// TestSecretDecisions: set creates, then rotates; delete ends it and a
// set after it creates again; deleting what does not exist is
// ErrSecretNotFound.
func TestSecretDecisions(t *testing.T) {
	t.Parallel()
	var s domain.Secret
	apply := func(p domain.Payload) {
		t.Helper()
		e := domain.Event{Seq: s.Seq() + 1, Type: p.EventType(), OccurredAt: time.Now()}
		e.Payload, _ = json.Marshal(p)
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DecideDelete("A", "u"); !errors.Is(err, domain.ErrSecretNotFound) {
		t.Fatalf("delete of nothing: %v", err)
	}
	want := []domain.EventType{domain.SecretCreatedType, domain.SecretRotatedType}
	for _, w := range want {
		d := s.DecideSet("A", "u")
		if d[0].EventType() != w {
			t.Fatalf("set decided %s, want %s", d[0].EventType(), w)
		}
		apply(d[0])
	}
	d, err := s.DecideDelete("A", "u")
	if err != nil {
		t.Fatal(err)
	}
	apply(d[0])
	if s.Exists() || s.DecideSet("A", "u")[0].EventType() != domain.SecretCreatedType {
		t.Fatal("after a delete the name is free to create again")
	}
}

// TestValidateSecret: names and values outside the rules are refused with
// the field named and the value never quoted.
func TestValidateSecret(t *testing.T) {
	t.Parallel()
	if err := domain.ValidateSecret("FLY_TOKEN", []byte("fo1_value")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, value, field string }{
		{"", "long enough", "name"},
		{"9X", "long enough", "name"},
		{strings.Repeat("A", domain.MaxSecretNameLen+1), "long enough", "name"},
		{"A", "abc", "value"},
		{"A", "ab\x00cdef", "value"},
		{"A", strings.Repeat("v", domain.MaxSecretValueLen+1), "value"},
	} {
		err := domain.ValidateSecret(c.name, []byte(c.value))
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field || (len(c.value) > 4 && strings.Contains(err.Error(), c.value)) {
			t.Errorf("ValidateSecret(%.20q, %d bytes) = %v, want field %s", c.name, len(c.value), err, c.field)
		}
	}
}
