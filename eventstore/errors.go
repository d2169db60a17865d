package eventstore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
)

// ErrConflict matches every *ConflictError.
var ErrConflict = errors.New("stream has moved on")

// ConflictError reports an append whose expected seq was not the stream's head.
// Reload the stream, decide again and retry.
type ConflictError struct {
	StreamID string
	Expected int64
	// Actual is the stream's head seq when known, or -1.
	Actual int64
}

func (e *ConflictError) Error() string {
	if e.Actual < 0 {
		return fmt.Sprintf("append to %s at seq %d: stream has moved on; reload it and retry", e.StreamID, e.Expected)
	}
	return fmt.Sprintf("append to %s at seq %d: stream is at seq %d; reload it and retry", e.StreamID, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ErrEventIDReused reports an append whose event ids are already stored for
// different events (another stream or seq). It is a caller bug, not a retry.
var ErrEventIDReused = errors.New("event id already used by a different event")

// ErrClosed is returned by a store after Close.
var ErrClosed = errors.New("event store is closed")

// ErrLeaseTaken is returned by LeaseStore.LeasePutWithin when the task
// already has a lease (of any attempt, held by any worker): another worker
// runs it, or its lease awaits the watchdog. Leave the task alone.
var ErrLeaseTaken = errors.New("task already has a lease")

// ErrTenantAtLimit is returned by LeaseStore.LeasePutWithin when the tenant
// already holds as many leases as its limit allows. Leave the task queued
// (and mark it waiting) until one of the tenant's leases is dropped.
var ErrTenantAtLimit = errors.New("tenant holds as many leases as its limit allows")

// ErrUnavailable reports that a store could not be reached. Stores may
// wrap it; Unavailable also recognizes the drivers' own errors.
var ErrUnavailable = errors.New("event store unavailable")

// Unavailable reports whether err says that the store could not be
// reached or stopped answering — a refused, reset or dropped connection, a
// server shutting down, restarting or out of connections — rather than
// that it refused the call. Such a call may be retried once the store is
// back; an append may be retried exactly as it was (see Store.Append: a
// retry of events that were stored after all is a no-op). It knows the
// errors by their behaviour (net.Error, SQLSTATE classes, the drivers'
// SafeToRetry), so it needs no import of a driver.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var netErr net.Error
	var state interface{ SQLState() string }
	var safe interface{ SafeToRetry() bool }
	switch {
	case errors.Is(err, ErrUnavailable), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &netErr):
		return true
	case errors.As(err, &state):
		// 08: connection exceptions; 57P01-03: the server is shutting down,
		// crashed or not yet accepting connections; 53300: too many
		// connections.
		code := state.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	case errors.As(err, &safe):
		// The driver failed before it sent anything: a lost connection.
		return safe.SafeToRetry()
	}
	return false
}

// ErrSecretIDTaken is returned by WebhookSecretStore.WebhookSecretPut when
// the endpoint already has a secret of that id: a caller bug (ids are
// random), never a secret replaced.
var ErrSecretIDTaken = errors.New("webhook secret id already stored")
