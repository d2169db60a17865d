package eventstore

import (
	"errors"
	"fmt"
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
