// Package executors defines how a task's work runs: the Executor interface
// that every adapter implements (mock, shell, docker and fly; each
// passes the conformance suite of package executortest), and Reaper, for
// executors whose work can outlive a dead worker. The worker runtime that
// claims queued tasks, runs them, renews their leases and appends their
// output as events is package worker.
//
// Executors know nothing of the event store: they report output and
// progress to a Sink and return a Result. The worker turns those into
// events. An executor can therefore be wrapped (a sandbox, a resource
// limiter) without touching the worker.
package executors
