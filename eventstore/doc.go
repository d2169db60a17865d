// Package eventstore defines AxonTask's event store: append-only streams,
// each a hash chain, and a dense global feed in commit order. The store is
// the only source of truth; everything else is rebuilt from it.
//
// Two implementations satisfy Store: eventstore/postgres (production) and
// eventstore/sqlite (the embedded default). eventstore/storetest is the
// conformance suite both must pass.
package eventstore
