// Package engine holds what the two event store engines (eventstore/postgres
// and eventstore/sqlite) share and nobody else needs: the checks of each
// port's arguments before any I/O, an append's checks against the stream's
// head (CheckHead), and the answer to an append retried after an ambiguous
// failure. Both engines call the same code, so they accept and
// refuse exactly the same input.
package engine
