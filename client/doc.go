// Package client is the Go SDK of the AxonTask HTTP API (docs/api.md): typed
// calls for every endpoint, and a Server-Sent Events reader that follows a
// task's events to its end, resuming by itself when the connection drops.
//
// A Client holds the server's base URL and one bearer credential (an API key
// or an access token); it is safe for concurrent use. Every call takes a
// context, which is the only timeout: the Client sets none, because streams
// last as long as their tasks.
//
// Calls take and return the API's wire types of package api, the very types
// the server encodes (api.Task, api.TaskPage, api.StartedTask, api.Tokens,
// api.Key, api.EventPage, …): there is no second form of a resource to
// convert. Those holding a secret (a resume token, tokens, a key's
// plaintext) print and log without it.
//
// Every answer that is not 2xx is an *APIError, parsed from the server's
// application/problem+json body; test for the common cases with errors.Is
// and the sentinels ErrNotFound, ErrUnauthenticated, ErrForbidden,
// ErrConflict, ErrRateLimited, ErrQuotaExceeded and ErrInvalidInput.
// Cancelling a task that ended otherwise is a *TaskFinishedError with the
// final state. Errors never hold the bearer credential or a resume token.
//
// Responses are read with bounds, so a broken or hostile server cannot make
// the client buffer without limit: 64 KiB for an error body, 8 MiB for a JSON
// answer, the page's limit times the largest event for a page of events, and
// the largest event (a 1 MiB payload and its envelope) for one SSE line.
//
// (*Client).Stream returns a *Stream whose Next yields the task's events in
// seq order, each exactly once, ending with the terminal event and then
// io.EOF. When a connection fails it reconnects with Last-Event-ID after an
// exponential, jittered backoff, and it can verify the hash chain as it
// reads (StreamOptions.Verify).
package client
