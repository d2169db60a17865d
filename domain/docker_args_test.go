package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
)

func TestDockerArgsAccepted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args string
		want domain.DockerArgs
	}{
		{"the image alone takes the defaults", `{"image":"alpine:3.20"}`,
			domain.DockerArgs{Image: "alpine:3.20", Pull: domain.PullMissing, Network: domain.DockerNetworkNone}},
		{"everything", `{"image":"registry.example.com/team/app@sha256:` + strings.Repeat("a", 64) + `","command":["make","test"],` +
			`"env":{"CI":"1","TOKEN":{"secret":"TOKEN"}},"workdir":"/src","pull":"always",` +
			`"registry_auth":{"username":"bot","password":{"secret":"REG_PW"}},"network":"bridge","memory_mb":256,"cpu_milli":500,"pids":64}`,
			domain.DockerArgs{
				Image: "registry.example.com/team/app@sha256:" + strings.Repeat("a", 64), Command: []string{"make", "test"},
				Env:     domain.SecretEnv{"CI": domain.Lit("1"), "TOKEN": {Ref: "TOKEN"}},
				Workdir: "/src", Pull: domain.PullAlways,
				RegistryAuth: &domain.RegistryAuth{Username: "bot", Password: domain.SecretString{Ref: "REG_PW"}},
				Network:      "bridge", MemoryMB: 256, CPUMilli: 500, Pids: 64,
			}},
		{"pull never, an absolute workdir", `{"image":"busybox","pull":"never","workdir":"/app"}`,
			domain.DockerArgs{Image: "busybox", Pull: domain.PullNever, Network: "none", Workdir: "/app"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParseArgs(domain.AdapterDocker, json.RawMessage(tc.args))
			if err != nil {
				t.Fatalf("ParseArgs: %v", err)
			}
			if !reflect.DeepEqual(got, &tc.want) {
				t.Errorf("got %#v\nwant %#v", got, &tc.want)
			}
		})
	}
}

func TestDockerArgsRejected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, args, field, reason string
	}{
		{"no image", `{}`, "args.image", "is required"},
		{"an image that is no reference", `{"image":"Alpine Linux"}`, "args.image", "not an image reference"},
		{"an image too long", `{"image":"` + strings.Repeat("a", domain.MaxDockerImageLen+1) + `"}`, "args.image", "the limit"},
		{"an unknown field", `{"image":"a","cmd":["x"]}`, "args.cmd", "not a known argument"},
		{"command of the wrong type", `{"image":"a","command":"make test"}`, "args.command", "an array"},
		{"an empty program", `{"image":"a","command":[""]}`, "args.command[0]", "name the program"},
		{"an env name", `{"image":"a","env":{"1A":"x"}}`, "args.env", "must match"},
		{"an env value of the wrong type", `{"image":"a","env":{"A":1}}`, "args.env.A", "secret reference"},
		{"an env secret with another member", `{"image":"a","env":{"A":{"secret":"X","v":1}}}`, "args.env.A", "no other member"},
		{"an env value with NUL", `{"image":"a","env":{"A":"x\u0000"}}`, "args.env.A", "without NUL"},
		{"a relative workdir", `{"image":"a","workdir":"src"}`, "args.workdir", "must be an absolute directory"},
		{"an unknown pull", `{"image":"a","pull":"sometimes"}`, "args.pull", `"missing"`},
		{"registry auth without a user", `{"image":"a","registry_auth":{"password":{"secret":"P"}}}`, "args.registry_auth.username", "required"},
		{"registry auth without a password", `{"image":"a","registry_auth":{"username":"u"}}`, "args.registry_auth.password", "secret reference"},
		{"a registry password in the clear", `{"image":"a","registry_auth":{"username":"u","password":"hunter2"}}`, "args.registry_auth.password", "never the password itself"},
		{"a misspelt registry member", `{"image":"a","registry_auth":{"username":"u","pasword":{"secret":"P"}}}`, "args.registry_auth.pasword", "not a known argument"},
		{"a registry member twice", `{"image":"a","registry_auth":{"username":"u","username":"v","password":{"secret":"P"}}}`, "args.registry_auth.username", "twice"},
		{"a registry password of the wrong type", `{"image":"a","registry_auth":{"username":"u","password":42}}`, "args.registry_auth.password", "secret reference"},
		{"a network that is no name", `{"image":"a","network":"--privileged"}`, "args.network", "engine network"},
		{"too little memory", `{"image":"a","memory_mb":1}`, "args.memory_mb", "at least 6"},
		{"negative cpu", `{"image":"a","cpu_milli":-1}`, "args.cpu_milli", "between"},
		{"too many pids", `{"image":"a","pids":99999999}`, "args.pids", "between"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.ParseArgs(domain.AdapterDocker, json.RawMessage(tc.args))
			var ve *domain.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ParseArgs(%s) = %v, want a *ValidationError", tc.args, err)
			}
			if ve.Field != tc.field || !strings.Contains(ve.Reason, tc.reason) {
				t.Errorf("ParseArgs(%s) = %s: %s, want %s: …%s…", tc.args, ve.Field, ve.Reason, tc.field, tc.reason)
			}
		})
	}
}

func TestDockerArgsSecretRefs(t *testing.T) {
	t.Parallel()
	a, err := domain.ParseArgs(domain.AdapterDocker, json.RawMessage(
		`{"image":"a","env":{"A":{"secret":"B"},"C":{"secret":"B"},"D":"lit","E":{"secret":"A"}},"registry_auth":{"username":"u","password":{"secret":"PW"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.(domain.SecretReferrer).SecretRefs(); !reflect.DeepEqual(got, []string{"A", "B", "PW"}) {
		t.Errorf("SecretRefs = %v", got)
	}
	// The log keeps what was written: references, not values.
	b, _ := json.Marshal(a)
	if !strings.Contains(string(b), `"password":{"secret":"PW"}`) {
		t.Errorf("marshalled %s", b)
	}
}

func TestDockerWorkdir(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "/work/./src/": "/work/src", "/app/../srv": "/srv"} {
		if got, err := domain.DockerWorkdir(in); err != nil || got != want {
			t.Errorf("DockerWorkdir(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// DockerArgs encode to the args they were parsed from: an SDK user may
// send a *DockerArgs as a task's args.
func TestDockerArgsRoundTrip(t *testing.T) {
	t.Parallel()
	in := &domain.DockerArgs{
		Image: "alpine:3.20", Command: []string{"env"}, Env: domain.SecretEnv{"A": domain.Lit("1"), "T": {Ref: "TOKEN"}},
		RegistryAuth: &domain.RegistryAuth{Username: "u", Password: domain.SecretString{Ref: "PW"}}, MemoryMB: 64,
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := domain.ParseArgs(domain.AdapterDocker, b)
	if err != nil {
		t.Fatalf("ParseArgs(%s): %v", b, err)
	}
	want := *in
	want.Pull, want.Network = domain.PullMissing, domain.DockerNetworkNone
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("ParseArgs(%s) = %#v, want %#v", b, got, &want)
	}
}
