package domain

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/distribution/reference"
)

// DockerWorkDir is where a docker task's writable work directory is inside
// its container: a fresh tmpfs for every attempt.
const DockerWorkDir = "/work"

// DockerPull says when the docker executor pulls a task's image.
type DockerPull string

// Pull policies.
const (
	// PullMissing pulls the image only when the worker's engine lacks it
	// (the default).
	PullMissing DockerPull = "missing"
	// PullAlways pulls the image before every attempt, so that a moving tag
	// (latest) is followed.
	PullAlways DockerPull = "always"
	// PullNever runs only an image the engine already has.
	PullNever DockerPull = "never"
)

// DockerNetworkNone is the network of a docker task that does not ask for
// one: no interface but its own loopback.
const DockerNetworkNone = "none"

// Limits on docker task input.
const (
	MaxDockerImageLen    = 512
	MaxDockerNetworkLen  = 64
	MaxDockerMemoryMB    = 1 << 20 // 1 TiB
	MaxDockerCPUMilli    = 1024 * 1000
	MaxDockerPids        = 1 << 22
	maxRegistryUserBytes = 256
)

var dockerNetworkRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// DockerArgs are the arguments of the docker adapter: a container of Image
// runs Command (the image's entrypoint and command when empty) with Env in
// Workdir, on Network, bounded by the task's plan and, below it, by
// MemoryMB, CPUMilli and Pids. Env values and RegistryAuth's password may be
// secret references ({"secret": "NAME"}); see [SecretString].
type DockerArgs struct {
	// Image is the image reference, like "alpine:3.20" or
	// "registry.example.com/team/builder@sha256:…".
	Image string `json:"image"`
	// Command replaces the image's CMD (argv; the image's ENTRYPOINT, if
	// any, still runs it). Empty: the image's own.
	Command []string `json:"command,omitempty"`
	// Env adds variables to the image's environment.
	Env SecretEnv `json:"env,omitempty"`
	// Workdir is the command's directory, absolute (see [DockerWorkdir]).
	// Empty: the image's WORKDIR, or [DockerWorkDir] when the image sets
	// none.
	Workdir string `json:"workdir,omitempty"`
	// Pull says when the image is pulled (default [PullMissing]).
	Pull DockerPull `json:"pull,omitempty"`
	// RegistryAuth authenticates the pull, when the registry wants it.
	RegistryAuth *RegistryAuth `json:"registry_auth,omitempty"`
	// Network names the engine network the container joins (default
	// [DockerNetworkNone]). Others run only where the worker's operator
	// allows them and the tenant's plan allows egress.
	Network string `json:"network,omitempty"`
	// MemoryMB bounds the container's memory in MiB, below the plan's bound
	// (0: the plan's).
	MemoryMB int64 `json:"memory_mb,omitempty"`
	// CPUMilli bounds the container's CPU in thousandths of a CPU, below
	// the plan's bound (0: the plan's).
	CPUMilli int `json:"cpu_milli,omitempty"`
	// Pids bounds the container's processes and threads, below the plan's
	// bound (0: the plan's).
	Pids int `json:"pids,omitempty"`
}

// RegistryAuth are the credentials of a registry for a docker task's pull.
// The password must be a secret reference, so that it never enters the
// task's log.
type RegistryAuth struct {
	Username string       `json:"username"`
	Password SecretString `json:"password"`
}

// UnmarshalJSON decodes registry_auth as strictly as the args around it:
// members exactly username and password, each once; errors name
// args.registry_auth's member.
func (r *RegistryAuth) UnmarshalJSON(b []byte) error {
	type plain RegistryAuth // without this method
	return decodeNested("args.registry_auth", b, (*plain)(r), "username", "password")
}

// dockerFields are DockerArgs' JSON members.
var dockerFields = []string{"image", "command", "env", "workdir", "pull", "registry_auth", "network", "memory_mb", "cpu_milli", "pids"}

// parseDockerArgs decodes and validates docker args, with the defaults set.
func parseDockerArgs(raw []byte) (*DockerArgs, error) {
	var args DockerArgs
	if err := decodeStrict(raw, &args, dockerFields...); err != nil {
		return nil, err
	}
	if args.Pull == "" {
		args.Pull = PullMissing
	}
	if args.Network == "" {
		args.Network = DockerNetworkNone
	}
	return &args, args.Validate()
}

// Validate checks the arguments against the docker adapter's limits. The
// operator's network allow-list and the plan's bounds are the executor's
// to check, at run time.
func (a *DockerArgs) Validate() error {
	if err := validateImage(a.Image); err != nil {
		return err
	}
	if err := validateArgv(a.Command); err != nil {
		return err
	}
	if err := a.Env.validate(); err != nil {
		return err
	}
	if _, err := DockerWorkdir(a.Workdir); err != nil {
		return err
	}
	switch a.Pull {
	case PullMissing, PullAlways, PullNever:
	default:
		return &ValidationError{Field: "args.pull", Reason: fmt.Sprintf(`is %q; use "missing" (the default), "always" or "never"`, a.Pull)}
	}
	if err := a.RegistryAuth.validate(); err != nil {
		return err
	}
	if len(a.Network) > MaxDockerNetworkLen || !dockerNetworkRE.MatchString(a.Network) {
		return &ValidationError{Field: "args.network", Reason: fmt.Sprintf(`must name an engine network ([A-Za-z0-9][A-Za-z0-9_.-]*, at most %d bytes); leave it out for "none"`, MaxDockerNetworkLen)}
	}
	return a.validateResources()
}

// validateImage checks an image reference the way the engine reads it.
func validateImage(image string) error {
	if image == "" {
		return &ValidationError{Field: "args.image", Reason: `is required: the image to run, like "alpine:3.20"`}
	}
	if len(image) > MaxDockerImageLen {
		return &ValidationError{Field: "args.image", Reason: fmt.Sprintf("is %d bytes; the limit is %d", len(image), MaxDockerImageLen)}
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return &ValidationError{Field: "args.image", Reason: fmt.Sprintf(`%q is not an image reference (%v); write it like "alpine:3.20" or "registry.example.com/team/app@sha256:…"`, image, err)}
	}
	return nil
}

// validate checks registry credentials; nil means none.
func (r *RegistryAuth) validate() error {
	if r == nil {
		return nil
	}
	if r.Username == "" || len(r.Username) > maxRegistryUserBytes || strings.ContainsAny(r.Username, "\x00:") {
		return &ValidationError{Field: "args.registry_auth.username", Reason: fmt.Sprintf("is required, at most %d bytes, without NUL or \":\"", maxRegistryUserBytes)}
	}
	if !r.Password.IsRef() {
		return &ValidationError{Field: "args.registry_auth.password", Reason: `must be a secret reference like {"secret": "REGISTRY_PASSWORD"} (create it with POST /v1/secrets), never the password itself, which would stay in the task's log`}
	}
	return nil
}

// validateResources checks the requested bounds; the plan's are checked
// by the executor.
func (a *DockerArgs) validateResources() error {
	switch {
	case a.MemoryMB < 0 || a.MemoryMB > MaxDockerMemoryMB:
		return &ValidationError{Field: "args.memory_mb", Reason: fmt.Sprintf("must be between 6 and %d MiB, or left out for the plan's bound", MaxDockerMemoryMB)}
	case a.MemoryMB > 0 && a.MemoryMB < 6:
		return &ValidationError{Field: "args.memory_mb", Reason: "must be at least 6 MiB, the least a container starts with"}
	case a.CPUMilli < 0 || a.CPUMilli > MaxDockerCPUMilli:
		return &ValidationError{Field: "args.cpu_milli", Reason: fmt.Sprintf("must be between 1 and %d thousandths of a CPU, or left out for the plan's bound", MaxDockerCPUMilli)}
	case a.Pids < 0 || a.Pids > MaxDockerPids:
		return &ValidationError{Field: "args.pids", Reason: fmt.Sprintf("must be between 1 and %d, or left out for the plan's bound", MaxDockerPids)}
	}
	return nil
}

// SecretRefs returns the secrets that args.env and the registry password
// refer to, each once, sorted.
func (a *DockerArgs) SecretRefs() []string {
	names := a.Env.Refs()
	if a.RegistryAuth != nil && a.RegistryAuth.Password.IsRef() {
		names = append(names, a.RegistryAuth.Password.Ref)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

var _ SecretReferrer = (*DockerArgs)(nil)

// DockerWorkdir returns workdir, a docker task's args.workdir, clean: ""
// stays "" (the image's WORKDIR, or [DockerWorkDir] when the image sets
// none). It must be absolute: a directory of the image, or DockerWorkDir
// or one of its subdirectories, which the command creates itself (the
// engine would create a missing one as root, where the command cannot
// write). Anything else is a *ValidationError naming args.workdir.
func DockerWorkdir(workdir string) (string, error) {
	if workdir == "" {
		return "", nil
	}
	if strings.ContainsRune(workdir, 0) || len(workdir) > MaxArgBytes || !path.IsAbs(workdir) {
		return "", &ValidationError{Field: "args.workdir", Reason: fmt.Sprintf("must be an absolute directory of the container without NUL, at most %d bytes, like \"/app\"; leave it out for the image's WORKDIR, or %s, the writable work directory, when the image sets none", MaxArgBytes, DockerWorkDir)}
	}
	return path.Clean(workdir), nil
}
