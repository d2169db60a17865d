//go:build !linux

package sandbox

import "errors"

// errNotLinux is what every sandbox outside Linux answers: it is made of
// Linux namespaces, seccomp, Landlock and cgroups.
var errNotLinux = errors.New("the sandbox runs on Linux only; on this machine, start dev with -sandbox=off to run shell tasks unsandboxed as your user, and run workers on Linux")

// Sandbox starts commands in sandboxes; outside Linux, New never makes one.
type Sandbox struct {
	// Report says what this sandbox enforces.
	Report Report
}

// New fails outside Linux.
func New(Config) (*Sandbox, error) { return nil, errNotLinux }

// Start fails outside Linux.
func (*Sandbox) Start(Request) (*Process, error) { return nil, errNotLinux }

// Close does nothing outside Linux.
func (*Sandbox) Close() {}

// Init does nothing outside Linux: no process is ever a sandbox's init.
func Init() {}

// Process is a command running in a sandbox; outside Linux there is none.
type Process struct{}

// Terminate does nothing outside Linux.
func (*Process) Terminate() {}

// Kill does nothing outside Linux.
func (*Process) Kill() {}

// Wait reports that there was no sandbox.
func (*Process) Wait() Exit { return Exit{Err: errNotLinux} }

// Close does nothing outside Linux.
func (*Process) Close() {}
