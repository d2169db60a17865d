// Package storetest holds the conformance suites of the event store's
// ports: RunLog for eventstore.Store (the event log), RunLeases,
// RunTaskStarts, RunAPIKeyUsage, RunWaiting, RunWebhookSecrets, RunWebhookDeliveries and RunTenantFeed for the operational stores
// beside it, and RunStaleQueued and RunRetention for the queries over the
// task list read model (projections.StaleQueuedStore,
// projections.EndedTaskStore, with eventstore.PruneStore). Every engine
// (eventstore/postgres, eventstore/sqlite) runs each of them from its own
// tests, with an Opener of its concrete store, and must pass all of them.
// A new port adds its own Run function here.
//
// The suites test the contract only, through the ports: atomic,
// validated, idempotent appends; expected-seq conflicts; hash chains that
// recompute with package integrity; stream and feed reads with paging and
// clamped limits; a dense feed in commit order under concurrent writers;
// WaitFeed wake-ups and cancellation; ErrClosed after Close; listing a
// tenant's streams of one type (byte order, paging, isolation, limits); API
// key last uses that never move backwards; webhook secrets written once
// per id; webhook deliveries dispatched with their checkpoint and claimed
// one endpoint's at a time in feed order; a tenant's slice of the feed, in
// order, paged and filtered; daily task start counts per
// tenant and UTC day that concurrent reservations never push past a limit;
// leases put within a tenant's limit, exact under concurrent calls; waiting
// tasks listed oldest first; stale queued tasks (queued before a cutoff in
// the task list read model, without a lease or a waiting mark) listed
// oldest queued first; retention: finished tasks and their tenants
// listed from the task list read model, and pruned (payloads and salts
// gone, chains still verifying, idempotent, refused for unfinished tasks
// and other streams).
//
// It allows for a store that seals feed positions after the append commits
// (Postgres does): it never assumes that Append returns positions, and it
// waits through WaitFeed before it looks at the feed. To check that a failed
// append wrote nothing to the feed, it appends a marker event afterwards and
// checks that the marker is the only event past the expected feed length.
package storetest
