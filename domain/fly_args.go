package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// FlyMode says what a fly task does.
type FlyMode string

// Fly modes.
const (
	// FlyRun runs a command in a new Fly Machine, which is destroyed at the end.
	FlyRun FlyMode = "run"
	// FlyDeploy rolls an app's machines to an image, one at a time.
	FlyDeploy FlyMode = "deploy"
)

// Fly guest CPU kinds.
const (
	FlyCPUShared      = "shared"
	FlyCPUPerformance = "performance"
)

// Limits and defaults of the fly adapter's args.
const (
	MaxFlyImageLen        = 512
	DefaultFlyHealthS     = 300
	MaxFlyHealthS         = 3600
	DefaultFlyMemoryMB    = 256
	flyMemoryStepMB       = 256
	flySharedMaxMBPerCPU  = 2048
	flyPerfMinMBPerCPU    = 2048
	flyPerfMaxMBPerCPU    = 8192
	flyRunOnlyFieldsError = "applies to mode \"run\" only; a deploy keeps each machine's own %s"
)

var (
	flyAppRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	flyRegionRE = regexp.MustCompile(`^[a-z]{3}$`)
	// flySharedCPUs and flyPerfCPUs are the CPU counts Fly's guest sizes
	// offer (shared-cpu-Nx, performance-Nx).
	flySharedCPUs = []int{1, 2, 4, 6, 8}
	flyPerfCPUs   = []int{1, 2, 4, 6, 8, 10, 12, 14, 16}
)

// FlyGuest is the size of a fly run's machine.
type FlyGuest struct {
	// CPUKind is FlyCPUShared (default) or FlyCPUPerformance.
	CPUKind string `json:"cpu_kind"`
	// CPUs is how many CPUs of that kind (default 1).
	CPUs int `json:"cpus"`
	// MemoryMB is the machine's memory, a multiple of 256 (default 256).
	MemoryMB int `json:"memory_mb"`
}

// FlyArgs are the arguments of the fly adapter, which works through the
// Fly Machines API with the tenant's Fly API token (Token, always a
// reference to a tenant secret: the token never enters the task's events).
//
// Mode FlyRun creates a machine of App from Image, runs Command (the
// image's own command when empty) with Env in Region (Fly's choice when
// empty) on Guest (shared-cpu-1x, 256 MB when nil), streams its logs and
// destroys it. Mode FlyDeploy rolls every machine of App to Image, one at
// a time, waiting up to HealthTimeoutS seconds for each to start and pass
// its health checks.
//
// The API's address is the operator's choice, never a tenant's: it is not
// an argument.
type FlyArgs struct {
	Mode           FlyMode      `json:"mode"`
	App            string       `json:"app"`
	Image          string       `json:"image"`
	Token          SecretString `json:"token"`
	Command        []string     `json:"command,omitempty"`
	Env            SecretEnv    `json:"env,omitempty"`
	Region         string       `json:"region,omitempty"`
	Guest          *FlyGuest    `json:"guest,omitempty"`
	HealthTimeoutS int          `json:"health_timeout_s,omitempty"`
}

var _ SecretReferrer = (*FlyArgs)(nil)

// flyArgsFields are the member names of FlyArgs.
var flyArgsFields = []string{"mode", "app", "image", "token", "command", "env", "region", "guest", "health_timeout_s"}

// parseFlyArgs decodes raw strictly into FlyArgs, with the defaults filled
// in, and validates it. The secret-or-string members are decoded one by
// one so that an error names the member.
func parseFlyArgs(raw json.RawMessage) (*FlyArgs, error) {
	var in struct {
		Mode           FlyMode         `json:"mode"`
		App            string          `json:"app"`
		Image          string          `json:"image"`
		Token          SecretString    `json:"token"`
		Command        []string        `json:"command"`
		Env            SecretEnv       `json:"env"`
		Region         string          `json:"region"`
		Guest          json.RawMessage `json:"guest"`
		HealthTimeoutS int             `json:"health_timeout_s"`
	}
	if err := decodeStrict(raw, &in, flyArgsFields...); err != nil {
		return nil, err
	}
	args := &FlyArgs{Mode: in.Mode, App: in.App, Image: in.Image, Token: in.Token, Command: in.Command, Env: in.Env, Region: in.Region, HealthTimeoutS: in.HealthTimeoutS}
	if args.Mode == "" {
		args.Mode = FlyRun
	}
	if g := bytes.TrimSpace(in.Guest); len(g) > 0 && !bytes.Equal(g, []byte("null")) {
		args.Guest = &FlyGuest{CPUKind: FlyCPUShared, CPUs: 1, MemoryMB: DefaultFlyMemoryMB}
		if err := decodeNested("args.guest", g, args.Guest, "cpu_kind", "cpus", "memory_mb"); err != nil {
			return nil, err
		}
	}
	if args.Mode == FlyDeploy && args.HealthTimeoutS == 0 {
		args.HealthTimeoutS = DefaultFlyHealthS
	}
	return args, args.Validate()
}

// SecretRefs returns the names of the secrets the token and env refer to,
// each once, sorted.
func (a *FlyArgs) SecretRefs() []string {
	var refs []string
	if a.Token.IsRef() {
		refs = append(refs, a.Token.Ref)
	}
	refs = append(refs, a.Env.Refs()...)
	slices.Sort(refs)
	return slices.Compact(refs)
}

// Validate checks the arguments against the fly adapter's limits.
func (a *FlyArgs) Validate() error {
	if a.Mode != FlyRun && a.Mode != FlyDeploy {
		return &ValidationError{Field: "args.mode", Reason: fmt.Sprintf("is %q; use \"run\" (a command in a new machine) or \"deploy\" (roll the app's machines to an image)", a.Mode)}
	}
	if !flyAppRE.MatchString(a.App) {
		return &ValidationError{Field: "args.app", Reason: "must name a Fly app: 1 to 63 lowercase letters, digits and dashes, not starting with a dash"}
	}
	if a.Image == "" || len(a.Image) > MaxFlyImageLen || strings.ContainsFunc(a.Image, func(r rune) bool { return r <= ' ' || r == 0x7f }) || !utf8.ValidString(a.Image) {
		return &ValidationError{Field: "args.image", Reason: fmt.Sprintf("must be an image reference like \"registry.fly.io/myapp:v2\", at most %d bytes without spaces", MaxFlyImageLen)}
	}
	if !a.Token.IsRef() {
		return &ValidationError{Field: "args.token", Reason: `must name the tenant secret that holds the Fly API token, like {"secret": "FLY_TOKEN"} (store it with POST /v1/secrets first): a token written in the args would be kept in the task's events for ever`}
	}
	if a.Mode == FlyDeploy {
		return a.validateDeploy()
	}
	return a.validateRun()
}

// validateDeploy checks what only a deploy's args must satisfy.
func (a *FlyArgs) validateDeploy() error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"command", a.Command != nil}, {"env", a.Env != nil}, {"region", a.Region != ""}, {"guest", a.Guest != nil}} {
		if f.set {
			return &ValidationError{Field: "args." + f.name, Reason: fmt.Sprintf(flyRunOnlyFieldsError, f.name)}
		}
	}
	if a.HealthTimeoutS < 1 || a.HealthTimeoutS > MaxFlyHealthS {
		return &ValidationError{Field: "args.health_timeout_s", Reason: fmt.Sprintf("must be between 1 and %d seconds (default %d)", MaxFlyHealthS, DefaultFlyHealthS)}
	}
	return nil
}

// validateRun checks what only a run's args must satisfy.
func (a *FlyArgs) validateRun() error {
	if a.HealthTimeoutS != 0 {
		return &ValidationError{Field: "args.health_timeout_s", Reason: `applies to mode "deploy" only`}
	}
	if err := validateArgv(a.Command); err != nil {
		return err
	}
	if err := a.Env.validate(); err != nil {
		return err
	}
	if a.Region != "" && !flyRegionRE.MatchString(a.Region) {
		return &ValidationError{Field: "args.region", Reason: "must be a Fly region code of three lowercase letters, like \"ams\" or \"iad\" (leave it out to let Fly choose)"}
	}
	if a.Guest != nil {
		return a.Guest.validate()
	}
	return nil
}

// validate checks a guest size against the sizes Fly offers.
func (g *FlyGuest) validate() error {
	var cpus []int
	minMB, maxMB := DefaultFlyMemoryMB, flySharedMaxMBPerCPU*g.CPUs
	switch g.CPUKind {
	case FlyCPUShared:
		cpus = flySharedCPUs
	case FlyCPUPerformance:
		cpus = flyPerfCPUs
		minMB, maxMB = flyPerfMinMBPerCPU*g.CPUs, flyPerfMaxMBPerCPU*g.CPUs
	default:
		return &ValidationError{Field: "args.guest.cpu_kind", Reason: fmt.Sprintf("is %q; use %q or %q", g.CPUKind, FlyCPUShared, FlyCPUPerformance)}
	}
	if !slices.Contains(cpus, g.CPUs) {
		return &ValidationError{Field: "args.guest.cpus", Reason: fmt.Sprintf("is %d; a %s guest has one of %v CPUs", g.CPUs, g.CPUKind, cpus)}
	}
	if g.MemoryMB < minMB || g.MemoryMB > maxMB || g.MemoryMB%flyMemoryStepMB != 0 {
		return &ValidationError{Field: "args.guest.memory_mb", Reason: fmt.Sprintf("is %d; a %s guest with %d CPUs has %d to %d MB, in steps of %d", g.MemoryMB, g.CPUKind, g.CPUs, minMB, maxMB, flyMemoryStepMB)}
	}
	return nil
}

// Size returns the guest of a run: g, or the default shared-cpu-1x with
// 256 MB when g is nil.
func (g *FlyGuest) Size() FlyGuest {
	if g == nil {
		return FlyGuest{CPUKind: FlyCPUShared, CPUs: 1, MemoryMB: DefaultFlyMemoryMB}
	}
	return *g
}

// CheckLimits reports a run whose machine is larger than the tenant's
// plan allows (limits' MemoryBytes, and CPUMilli counting each CPU, shared
// or not, as a whole one), naming the field to change. A deploy keeps the
// app's own machine sizes and is not checked.
func (a *FlyArgs) CheckLimits(limits TaskLimits) error {
	if a.Mode != FlyRun {
		return nil
	}
	g := a.Guest.Size()
	if limits.MemoryBytes > 0 && int64(g.MemoryMB)<<20 > limits.MemoryBytes {
		return &ValidationError{Field: "args.guest.memory_mb", Reason: fmt.Sprintf("is %d MB; the plan allows at most %d MB per task", g.MemoryMB, limits.MemoryBytes>>20)}
	}
	if limits.CPUMilli > 0 && g.CPUs*1000 > limits.CPUMilli {
		return &ValidationError{Field: "args.guest.cpus", Reason: fmt.Sprintf("is %d; the plan allows %.3g CPUs per task", g.CPUs, float64(limits.CPUMilli)/1000)}
	}
	return nil
}
