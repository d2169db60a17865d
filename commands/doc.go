// Package commands holds AxonTask's command handlers, the write side of
// docs/architecture.md: each handler validates a command, loads the
// aggregate's stream, lets package domain decide which events follow and
// appends them to the event store with an expected seq. One command per file:
// a plain command struct, its handler and the small store interface the
// handler needs (eventstore.Store satisfies every one of them).
//
// # The write path
//
// Decisions are methods of the aggregates in package domain. Handlers,
// the worker and the watchdog only load (Load, CatchUpTask), call a
// decision and append through Update, which retries conflicts by deciding
// again, up to Writer.MaxAttempts; Writer.NewEvents is the one event
// builder. Every handler has the shape Handler[C, R]; Decorate adds
// logging and metrics where handlers are built.
//
// # Time and metadata
//
// Handlers read the time from their config's NowFunc (time.Now by default),
// never inside package domain. Every event a command appends carries the
// command's domain.Metadata; when the command has a CommandID, the events'
// causation id is that id.
//
// # Idempotency
//
// A command with a CommandID is idempotent: the ids it stores are derived
// from (tenant, CommandID) with UUIDv5, so a retried command (an HTTP client
// repeating a request after a lost answer) finds its own events and writes
// nothing new. Set CommandID only from a key that the client chooses per
// operation (an Idempotency-Key header, a client-generated request id), never
// from ids that repeat across clients or sessions (JSON-RPC ids, counters).
// Without a CommandID every command is new and its ids are random (UUIDv7).
//
// # Errors
//
// Invalid input fails with a *domain.ValidationError naming the field by its
// JSON name (name, adapter, args.command, timeout_s, reason …) and writes
// nothing. A task that does not exist or belongs to another tenant is
// ErrTaskNotFound (answer 404: never reveal another tenant's task); a command
// that a finished task can no longer take (cancel of a task that succeeded)
// is a *TaskFinishedError (errors.Is domain.ErrTaskFinished; answer 409 with
// its message, which names the final state). ErrCommandIDReused and
// ErrTaskExists are client errors too (409 or 422).
package commands
