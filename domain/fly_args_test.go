package domain_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
)

func TestParseFlyArgsAccepts(t *testing.T) {
	t.Parallel()
	token := domain.SecretString{Ref: "FLY_TOKEN"}
	for _, tc := range []struct {
		name, args string
		want       *domain.FlyArgs
	}{
		{"run, the least", `{"app":"myapp","image":"alpine:3","token":{"secret":"FLY_TOKEN"}}`,
			&domain.FlyArgs{Mode: domain.FlyRun, App: "myapp", Image: "alpine:3", Token: token}},
		{"run, everything", `{"mode":"run","app":"my-app-2","image":"registry.fly.io/x:v1","token":{"secret":"LIT"},"command":["sh","-c","echo hi"],"env":{"A":"1","KEY":{"secret":"API_KEY"}},"region":"ams","guest":{"cpu_kind":"performance","cpus":2,"memory_mb":4096}}`,
			&domain.FlyArgs{Mode: domain.FlyRun, App: "my-app-2", Image: "registry.fly.io/x:v1", Token: domain.SecretString{Ref: "LIT"}, Command: []string{"sh", "-c", "echo hi"},
				Env: map[string]domain.SecretString{"A": domain.Lit("1"), "KEY": {Ref: "API_KEY"}}, Region: "ams", Guest: &domain.FlyGuest{CPUKind: "performance", CPUs: 2, MemoryMB: 4096}}},
		{"run, a partial guest takes the defaults", `{"app":"a","image":"i","token":{"secret":"T"},"guest":{"memory_mb":1024}}`,
			&domain.FlyArgs{Mode: domain.FlyRun, App: "a", Image: "i", Token: domain.SecretString{Ref: "T"}, Guest: &domain.FlyGuest{CPUKind: "shared", CPUs: 1, MemoryMB: 1024}}},
		{"deploy takes the default health timeout", `{"mode":"deploy","app":"a","image":"i:2","token":{"secret":"FLY_TOKEN"}}`,
			&domain.FlyArgs{Mode: domain.FlyDeploy, App: "a", Image: "i:2", Token: token, HealthTimeoutS: domain.DefaultFlyHealthS}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParseArgs(domain.AdapterFly, json.RawMessage(tc.args))
			if err != nil {
				t.Fatalf("ParseArgs: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseArgs = %#v, want %#v", got, tc.want)
			}
			// The stored form parses to the same args (start_task stores the
			// parsed args; the worker parses them again).
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := domain.ParseArgs(domain.AdapterFly, b)
			if err != nil || !reflect.DeepEqual(again, tc.want) {
				t.Fatalf("ParseArgs(%s) = %#v, %v; want %#v", b, again, err, tc.want)
			}
		})
	}
}

func TestParseFlyArgsRejects(t *testing.T) {
	t.Parallel()
	const base = `"app":"a","image":"i","token":{"secret":"T"}`
	for _, tc := range []struct{ name, args, field, reason string }{
		{"no app", `{"image":"i","token":{"secret":"T"}}`, "args.app", "Fly app"},
		{"an app with capitals", `{"app":"MyApp","image":"i","token":{"secret":"T"}}`, "args.app", "lowercase"},
		{"no image", `{"app":"a","token":{"secret":"T"}}`, "args.image", "image reference"},
		{"an image with a space", `{"app":"a","image":"a b","token":{"secret":"T"}}`, "args.image", "without spaces"},
		{"no token", `{"app":"a","image":"i"}`, "args.token", `{"secret": "FLY_TOKEN"}`},
		{"a token in the clear", `{"app":"a","image":"i","token":"fo1_abc"}`, "args.token", "kept in the task's events"},
		{"a bad secret name", `{"app":"a","image":"i","token":{"secret":"1x"}}`, "args.token", "not a valid secret name"},
		{"a token of the wrong type", `{"app":"a","image":"i","token":7}`, "args.token", "string or a secret reference"},
		{"an unknown member", `{` + base + `,"api_url":"http://169.254.169.254"}`, "args.api_url", "not a known argument"},
		{"an unknown mode", `{` + base + `,"mode":"scale"}`, "args.mode", `"run"`},
		{"a bad env name", `{` + base + `,"env":{"A-B":"x"}}`, "args.env", "A-B"},
		{"a bad env reference", `{` + base + `,"env":{"K":{"secret":"S","x":1}}}`, "args.env.K", "no other member"},
		{"a bad region", `{` + base + `,"region":"Amsterdam"}`, "args.region", "three lowercase"},
		{"an unknown guest member", `{` + base + `,"guest":{"gpus":1}}`, "args.guest.gpus", "not a known argument"},
		{"a bad cpu kind", `{` + base + `,"guest":{"cpu_kind":"gpu"}}`, "args.guest.cpu_kind", "shared"},
		{"a shared guest with 3 CPUs", `{` + base + `,"guest":{"cpus":3}}`, "args.guest.cpus", "[1 2 4 6 8]"},
		{"too much memory", `{` + base + `,"guest":{"memory_mb":4096}}`, "args.guest.memory_mb", "256 to 2048"},
		{"memory off the steps", `{` + base + `,"guest":{"memory_mb":300}}`, "args.guest.memory_mb", "steps of 256"},
		{"a wrong type in guest", `{` + base + `,"guest":{"cpus":"2"}}`, "args.guest.cpus", "an integer"},
		{"a health timeout in a run", `{` + base + `,"health_timeout_s":5}`, "args.health_timeout_s", "deploy"},
		{"a command in a deploy", `{` + base + `,"mode":"deploy","command":["x"]}`, "args.command", "run"},
		{"a guest in a deploy", `{` + base + `,"mode":"deploy","guest":{"cpus":1}}`, "args.guest", "run"},
		{"a health timeout too long", `{` + base + `,"mode":"deploy","health_timeout_s":3601}`, "args.health_timeout_s", "3600"},
		{"a NUL in an argument", `{` + base + `,"command":["a\u0000"]}`, "args.command[0]", "NUL"},
		{"an empty program", `{` + base + `,"command":[""]}`, "args.command[0]", "name the program"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := domain.ParseArgs(domain.AdapterFly, json.RawMessage(tc.args))
			var verr *domain.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ParseArgs(%s) = %v, want a *domain.ValidationError", tc.args, err)
			}
			if verr.Field != tc.field || !strings.Contains(verr.Reason, tc.reason) {
				t.Fatalf("ParseArgs(%s) = %v; want field %s mentioning %q", tc.args, err, tc.field, tc.reason)
			}
		})
	}
}

func TestFlyArgsSecretRefsAndLimits(t *testing.T) {
	t.Parallel()
	a := &domain.FlyArgs{Mode: domain.FlyRun, Token: domain.SecretString{Ref: "T"},
		Env: map[string]domain.SecretString{"A": {Ref: "B"}, "C": {Ref: "T"}, "D": domain.Lit("x")}}
	if got := a.SecretRefs(); !reflect.DeepEqual(got, []string{"B", "T"}) {
		t.Errorf("SecretRefs = %v, want [B T]", got)
	}
	if err := a.CheckLimits(domain.TaskLimits{MemoryBytes: 256 << 20, CPUMilli: 1000}); err != nil {
		t.Errorf("the default guest within a 256 MiB, 1 CPU plan: %v", err)
	}
	a.Guest = &domain.FlyGuest{CPUKind: "shared", CPUs: 2, MemoryMB: 512}
	var verr *domain.ValidationError
	if err := a.CheckLimits(domain.TaskLimits{MemoryBytes: 256 << 20}); !errors.As(err, &verr) || verr.Field != "args.guest.memory_mb" {
		t.Errorf("512 MB in a 256 MiB plan: %v", err)
	}
	if err := a.CheckLimits(domain.TaskLimits{CPUMilli: 1500}); !errors.As(err, &verr) || verr.Field != "args.guest.cpus" {
		t.Errorf("2 CPUs in a 1.5 CPU plan: %v", err)
	}
}
