// Package translog runs AxonTask's transparency log (docs/integrity.md
// sections 8 and 9): it follows the event store's global feed and grows a
// Merkle tree over it (leaf n is the entry of the event at feed position n,
// package integrity), signs checkpoints of the tree in the C2SP
// tlog-checkpoint note format every few seconds while the log grows and on
// demand, answers inclusion and consistency proofs, and signs the receipts
// of ended tasks. The tree and checkpoints live in the store beside the log
// (eventstore.MerkleStore); this package holds no state of its own, so any
// number of processes may serve proofs while one (elected) builds.
package translog
