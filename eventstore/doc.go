// Package eventstore defines AxonTask's event store: append-only streams,
// each a hash chain, and a dense global feed in commit order. The store is
// the only source of truth; everything else is rebuilt from it.
//
// The event log's port is Store, kept small. Operational state kept beside
// the log, in the same database, has one port per concern: LeaseStore,
// TaskStartStore, APIKeyUsageStore, WaitingStore, PruneStore and
// MerkleStore (the transparency log's tree and checkpoints); queries
// over a read model are ports of package projections. Consumers declare the
// few methods they need; wiring passes the engine's concrete store, which
// implements every port, wherever one is needed. Store's doc comment says
// how a new port is added.
//
// Two engines implement every port: eventstore/postgres (production) and
// eventstore/sqlite (the embedded default). eventstore/storetest holds one
// conformance suite per port, and both engines run all of them.
package eventstore
