// Package commands holds AxonTask's command handlers, the write side of
// docs/architecture.md: each handler validates a command, loads the
// aggregate's stream, lets package domain decide which events follow and
// appends them to the event store with an expected seq. One command per file:
// a plain command struct, its handler and the small store interface the
// handler needs (the engines' stores satisfy every one of them).
//
// # The write path
//
// Decisions are methods of the aggregates in package domain. Handlers,
// the worker and the watchdog only load (Load, CatchUpTask), call a
// decision and append through Update, which retries conflicts by deciding
// again, up to Writer.MaxAttempts (or for Writer.RetryFor: a cancel keeps
// deciding against a task that prints without pause); Writer.NewEvents is
// the one event builder. Every handler has the shape Handler[C, R]; Decorate adds
// logging and metrics where handlers are built.
//
// Two kinds of append do not decide again after a conflict, on purpose.
// Writer.Append appends once where a conflict is itself the answer: a new
// stream that exists already (a start, a registration), a refresh token that
// another refresh used first (a replay), a key revoked concurrently. And a
// task's worker, the one writer of its output, keeps the stream's head in
// memory and appends its output in batches (package worker), building its
// events with Writer.NewEvents.
//
// # Commands, queries and the identity side
//
// A query is a handler of the same shape whose struct names what it asks
// (ListAPIKeys, ListMembers) and whose handler appends nothing; it lives in
// a file of its own, like a command, and is decorated and counted like
// one, so that one decorator and one metric cover the whole API. Queries
// over a read model belong to its projection, not here; these read
// identity streams, which have no read model.
//
// The identity commands (Register, Login, Refresh, Logout, CreateAPIKey,
// RevokeAPIKey, AddMember, ChangeMemberRole, RemoveMember) and queries
// share one IdentityDeps (store, writer, token issuer, the bound on
// concurrent password hashes, clock, logger); NewIdentityHandlers builds
// them all on it as IdentityHandlers, which the HTTP layer calls.
// Authenticator, which resolves a bearer credential to a Principal before
// any command runs, is a type of its own: it records API keys' use in a
// KeyUsage, whose Run writes them in batches.
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
// A StartTasks batch gives each of its tasks without a CommandID of its own
// one derived from the batch's CommandID and the task's index, so that a
// retried batch finds every task the first one started.
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
