// Package projections keeps AxonTask's read models (docs/architecture.md,
// "The read path"): tables derived from the event store's global feed, each with
// a checkpoint (the next feed position it will apply) that moves in the same
// transaction as its rows, so a read model never applies an event twice or
// skips one, and can be dropped and rebuilt from the log at any time.
//
// A read model lags the log: an event shows up in it once the feed has sealed
// it and a Runner has applied it, usually within milliseconds. Reads that must
// see a caller's own writes (a task's status) read the task's stream instead.
//
// Read models are stored by the event store implementations
// (eventstore/postgres, eventstore/sqlite), in the store's own database; this
// package declares the ports they implement, the pure fold that turns events
// into rows, and the Runner that feeds them.
package projections
