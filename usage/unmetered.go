package usage

import "context"

// unmeteredKey marks a request context as not to be metered.
type unmeteredKey struct{}

// Unmetered returns ctx marked as the context of a request that AxonTask
// makes to its own API on a caller's behalf, such as an MCP tool following
// a task's stream: the caller is counted for the tool call, not again for
// the stream it made the server open.
func Unmetered(ctx context.Context) context.Context {
	return context.WithValue(ctx, unmeteredKey{}, true)
}

// Metered reports whether a request whose context is ctx counts as the
// caller's usage (it is not marked Unmetered).
func Metered(ctx context.Context) bool {
	unmetered, _ := ctx.Value(unmeteredKey{}).(bool)
	return !unmetered
}
