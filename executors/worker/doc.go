// Package worker runs claimed tasks: it claims a queued task by appending
// task.started at the stream's expected seq (exactly one claim wins), runs
// it through the executor of its adapter, appends its output and progress in
// batches, and ends it with task.succeeded, task.failed, task.canceled or
// task.timed_out.
//
// A Runner is told about work by its caller (the bus consumer) and about
// cancel requests through Runner.Cancel (the control topic); it also notices
// a cancel request, or the loss of its task, whenever an append of its own
// conflicts with an event someone else appended. Runner.Hold (the control
// topic too) holds a task's output back while a cancel request goes in,
// so that a task printing without pause cannot keep a cancel out. Leases, heartbeats and the
// watchdog that re-queues the tasks of dead workers build on this.
package worker
