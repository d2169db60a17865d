package storetest

import (
	"testing"

	"github.com/axontask/axontask/eventstore"
)

// factory makes a store for one test; see Run.
type factory = func(t *testing.T, opts eventstore.Options) eventstore.Store

// Run runs the conformance suite against the stores that newStore makes.
// The stores must also implement eventstore.LeaseStore and
// projections.TaskViewStore (the retention and stale queued task tests
// list tasks through it).
//
// Each call of newStore must return a fresh, empty store, isolated from every
// other call's, configured with opts (whose zero fields mean the defaults),
// and register its cleanup (Close, then removing its files or database) with
// t.Cleanup. Subtests run in parallel, so newStore must be safe for
// concurrent calls. Close must be harmless on a closed store: some subtests
// close their store before the cleanup does.
func Run(t *testing.T, newStore func(t *testing.T, opts eventstore.Options) eventstore.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, newStore factory)
	}{
		{"AppendAndReadBack", testAppendAndReadBack},
		{"HashChain", testHashChain},
		{"Conflict", testConflict},
		{"CommittedHook", testCommittedHook},
		{"AtomicBatch", testAtomicBatch},
		{"IdempotentRetry", testIdempotentRetry},
		{"EventIDReused", testEventIDReused},
		{"Validation", testValidation},
		{"ReadValidation", testReadValidation},
		{"ReadStreamPaging", testReadStreamPaging},
		{"Feed", testFeed},
		{"FeedPaging", testFeedPaging},
		{"ConcurrentStreams", testConcurrentStreams},
		{"ConcurrentSameStream", testConcurrentSameStream},
		{"WaitFeed", testWaitFeed},
		{"WaitFeedCanceled", testWaitFeedCanceled},
		{"Close", testClose},
		{"Leases", testLeases},
		{"ListStreams", testListStreams},
		{"ListStreamsReadYourWrites", testListStreamsReadYourWrites},
		{"ListStreamsLimits", testListStreamsLimits},
		{"ListStreamsValidation", testListStreamsValidation},
		{"TouchAPIKeys", testTouchAPIKeys},
		{"TouchAPIKeysBatchLimits", testTouchAPIKeysBatchLimits},
		{"TouchAPIKeysConcurrent", testTouchAPIKeysConcurrent},
		{"ReserveTaskStart", testReserveTaskStart},
		{"ReleaseTaskStart", testReleaseTaskStart},
		{"TaskStartDayUTC", testTaskStartDayUTC},
		{"ReserveTaskStartConcurrent", testReserveTaskStartConcurrent},
		{"TaskStartsValidation", testTaskStartsValidation},
		{"PutLeaseWithin", testPutLeaseWithin},
		{"PutLeaseWithinConcurrent", testPutLeaseWithinConcurrent},
		{"PutLeaseWithinValidation", testPutLeaseWithinValidation},
		{"WaitingTasks", testWaitingTasks},
		{"WaitingTasksLimits", testWaitingTasksLimits},
		{"WaitingValidation", testWaitingValidation},
		{"StaleQueuedTasks", testStaleQueuedTasks},
		{"StaleQueuedTasksLimits", testStaleQueuedTasksLimits},
		{"StaleQueuedTasksValidation", testStaleQueuedTasksValidation},
		{"PruneTask", testPruneTask},
		{"PruneTaskRefused", testPruneTaskRefused},
		{"PruneTaskConcurrent", testPruneTaskConcurrent},
		{"EndedTasks", testEndedTasks},
		{"PrunedMark", testPrunedMark},
		{"RetentionLimits", testRetentionLimits},
		{"RetentionValidation", testRetentionValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore)
		})
	}
}
