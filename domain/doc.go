// Package domain holds AxonTask's event envelope, event types, typed payloads
// and the aggregates' state machines.
//
// It is pure: no I/O, no clock reads (callers pass time in), and it imports
// none of AxonTask's other packages. Everything else (the event store, the
// integrity verifier, command handlers, projections) builds on these types.
package domain
