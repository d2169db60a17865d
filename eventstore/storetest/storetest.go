package storetest

import (
	"context"
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/projections"
)

// Opener makes a fresh store for one test. Each call must return a fresh,
// empty store, isolated from every other call's, configured with opts
// (whose zero fields mean the defaults), and register its cleanup (Close,
// then removing its files or database) with t.Cleanup. Subtests run in
// parallel, so an Opener must be safe for concurrent calls. Close must be
// harmless on a closed store: some subtests close their store before the
// cleanup does.
type Opener[S any] func(t *testing.T, opts eventstore.Options) S

// The stores each suite tests. Every operational suite also needs the
// event log, to check that its state is not events (the feed stays empty)
// and that Close ends it.
type (
	// LeaseStore is what RunLeases tests.
	LeaseStore interface {
		eventstore.Store
		eventstore.LeaseStore
		eventstore.LeaseAppender
	}
	// TaskStartStore is what RunTaskStarts tests.
	TaskStartStore interface {
		eventstore.Store
		eventstore.TaskStartStore
	}
	// APIKeyUsageStore is what RunAPIKeyUsage tests.
	APIKeyUsageStore interface {
		eventstore.Store
		eventstore.APIKeyUsageStore
	}
	// WebhookSecretStore is what RunWebhookSecrets tests.
	WebhookSecretStore interface {
		eventstore.Store
		eventstore.WebhookSecretStore
	}
	// TenantSecretStore is what RunTenantSecrets tests.
	TenantSecretStore interface {
		eventstore.Store
		eventstore.TenantSecretStore
	}
	// OAuthStore is what RunOAuth tests.
	OAuthStore interface {
		eventstore.Store
		eventstore.OAuthStore
	}
	// WebhookDeliveryStore is what RunWebhookDeliveries tests.
	WebhookDeliveryStore interface {
		eventstore.Store
		eventstore.WebhookDeliveryStore
	}
	// TenantFeedStore is what RunTenantFeed tests.
	TenantFeedStore interface {
		eventstore.Store
		eventstore.TenantFeedStore
	}
	// WaitingStore is what RunWaiting tests.
	WaitingStore interface {
		eventstore.Store
		eventstore.WaitingStore
	}
	// TaskViewLog is the event log with the task list read model beside
	// it, which the projection-backed suites fill from the log's feed.
	TaskViewLog interface {
		eventstore.Store
		projections.TaskViewStore
	}
	// StaleQueuedStore is what RunStaleQueued tests: the stale queued
	// tasks, and the read model, leases and waiting list they come from.
	StaleQueuedStore interface {
		TaskViewLog
		eventstore.LeaseStore
		eventstore.WaitingStore
		projections.StaleQueuedStore
	}
	// TaskCountStore is what RunTaskCounts tests: the task list read
	// model summed, and every feed consumer's checkpoint.
	TaskCountStore interface {
		TaskViewLog
		TaskViewsCount(ctx context.Context) (projections.TaskCounts, error)
		CheckpointList(ctx context.Context) (map[string]int64, error)
	}
	// MerkleStore is what RunMerkle tests.
	MerkleStore interface {
		eventstore.Store
		eventstore.MerkleStore
	}
	// RetentionStore is what RunRetention tests: the ended tasks listed
	// from the read model, and pruning them.
	RetentionStore interface {
		TaskViewLog
		eventstore.PruneStore
		projections.EndedTaskStore
	}
)

// suiteTest is one test of a suite on stores of type S.
type suiteTest[S any] struct {
	name string
	run  func(t *testing.T, newStore Opener[S])
}

// runSuite runs tests as parallel subtests on stores that newStore makes.
func runSuite[S any](t *testing.T, newStore Opener[S], tests []suiteTest[S]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore)
		})
	}
}

// factory makes an event log for one test of RunLog.
type factory = Opener[eventstore.Store]

// RunLog runs the conformance suite of eventstore.Store, the event log,
// against the stores that newStore makes.
func RunLog[S eventstore.Store](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) eventstore.Store { return newStore(t, o) }, []suiteTest[eventstore.Store]{
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
		{"ListStreams", testListStreams},
		{"ListStreamsReadYourWrites", testListStreamsReadYourWrites},
		{"ListStreamsLimits", testListStreamsLimits},
		{"ListStreamsValidation", testListStreamsValidation},
	})
}

// RunLeases runs the conformance suite of eventstore.LeaseStore against
// the stores that newStore makes.
func RunLeases[S LeaseStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) LeaseStore { return newStore(t, o) }, []suiteTest[LeaseStore]{
		{"Leases", testLeases},
		{"LeasePutWithin", testLeasePutWithin},
		{"LeasePutWithinConcurrent", testLeasePutWithinConcurrent},
		{"LeasePutWithinValidation", testLeasePutWithinValidation},
		{"AppendLeaseDrop", testAppendLeaseDrop},
		{"Closed", testLeasesClosed},
	})
}

// RunTaskStarts runs the conformance suite of eventstore.TaskStartStore
// against the stores that newStore makes.
func RunTaskStarts[S TaskStartStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) TaskStartStore { return newStore(t, o) }, []suiteTest[TaskStartStore]{
		{"TaskStartReserve", testTaskStartReserve},
		{"TaskStartRelease", testTaskStartRelease},
		{"TaskStartReserveMany", testTaskStartReserveMany},
		{"TaskStartDayUTC", testTaskStartDayUTC},
		{"TaskStartReserveConcurrent", testTaskStartReserveConcurrent},
		{"TaskStartsValidation", testTaskStartsValidation},
		{"Closed", testTaskStartsClosed},
	})
}

// RunAPIKeyUsage runs the conformance suite of eventstore.APIKeyUsageStore
// against the stores that newStore makes.
func RunAPIKeyUsage[S APIKeyUsageStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) APIKeyUsageStore { return newStore(t, o) }, []suiteTest[APIKeyUsageStore]{
		{"APIKeyUsageTouch", testAPIKeyUsageTouch},
		{"APIKeyUsageTouchBatchLimits", testAPIKeyUsageTouchBatchLimits},
		{"APIKeyUsageTouchConcurrent", testAPIKeyUsageTouchConcurrent},
		{"Closed", testAPIKeyUsageClosed},
	})
}

// RunMerkle runs the conformance suite of eventstore.MerkleStore against
// the stores that newStore makes.
func RunMerkle[S MerkleStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) MerkleStore { return newStore(t, o) }, []suiteTest[MerkleStore]{
		{"MerkleLeavesRead", testMerkleLeavesRead},
		{"MerkleTreeGrow", testMerkleTreeGrow},
		{"MerkleTreeGrowConcurrent", testMerkleTreeGrowConcurrent},
		{"MerkleTreeGrowInBatches", testMerkleTreeGrowInBatches},
		{"MerkleCheckpoints", testMerkleCheckpoints},
		{"MerkleCosignatures", testMerkleCosignatures},
		{"Closed", testMerkleClosed},
	})
}

// RunWebhookSecrets runs the conformance suite of
// eventstore.WebhookSecretStore against the stores that newStore makes.
func RunWebhookSecrets[S WebhookSecretStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) WebhookSecretStore { return newStore(t, o) }, []suiteTest[WebhookSecretStore]{
		{"WebhookSecrets", testWebhookSecrets},
		{"WebhookSecretsInvalid", testWebhookSecretsInvalid},
		{"WebhookSecretsConcurrent", testWebhookSecretsConcurrent},
		{"Closed", testWebhookSecretsClosed},
	})
}

// RunTenantSecrets runs the conformance suite of
// eventstore.TenantSecretStore against the stores that newStore makes.
func RunTenantSecrets[S TenantSecretStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) TenantSecretStore { return newStore(t, o) }, []suiteTest[TenantSecretStore]{
		{"TenantSecrets", testTenantSecrets},
		{"TenantSecretsReseal", testTenantSecretsReseal},
		{"TenantSecretsInvalid", testTenantSecretsInvalid},
		{"Closed", testTenantSecretsClosed},
	})
}

// RunOAuth runs the conformance suite of eventstore.OAuthStore against the
// stores that newStore makes.
func RunOAuth[S OAuthStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) OAuthStore { return newStore(t, o) }, []suiteTest[OAuthStore]{
		{"OAuthCodeAndRefresh", testOAuthCodeAndRefresh},
		{"OAuthCodeReplayed", testOAuthCodeReplayed},
		{"OAuthCodeRedeemConcurrent", testOAuthCodeRedeemConcurrent},
		{"OAuthRevoke", testOAuthRevoke},
		{"OAuthRefreshRevoke", testOAuthRefreshRevoke},
	})
}

// RunWebhookDeliveries runs the conformance suite of
// eventstore.WebhookDeliveryStore against the stores that newStore makes.
func RunWebhookDeliveries[S WebhookDeliveryStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) WebhookDeliveryStore { return newStore(t, o) }, []suiteTest[WebhookDeliveryStore]{
		{"WebhookDispatch", testWebhookDispatch},
		{"WebhookDeliveryOrder", testWebhookDeliveryOrder},
		{"WebhookEndpointFailingSince", testWebhookEndpointFailingSince},
		{"WebhookRedeliveryBesideOneInFlight", testWebhookRedeliveryBesideOneInFlight},
		{"WebhookDeliveryClaimConcurrent", testWebhookDeliveryClaimConcurrent},
		{"WebhookDeliveryPrune", testWebhookDeliveryPrune},
	})
}

// RunTenantFeed runs the conformance suite of eventstore.TenantFeedStore
// against the stores that newStore makes; a store with a TenantFeedIndex
// (Postgres) has its index caught up before each read.
func RunTenantFeed[S TenantFeedStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) TenantFeedStore { return newStore(t, o) }, []suiteTest[TenantFeedStore]{
		{"TenantFeed", testTenantFeed},
		{"TenantFeedWait", testTenantFeedWait},
	})
}

// RunWaiting runs the conformance suite of eventstore.WaitingStore against
// the stores that newStore makes.
func RunWaiting[S WaitingStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) WaitingStore { return newStore(t, o) }, []suiteTest[WaitingStore]{
		{"TaskWaitingList", testTaskWaitingList},
		{"TaskWaitingListLimits", testTaskWaitingListLimits},
		{"WaitingValidation", testWaitingValidation},
		{"Closed", testWaitingClosed},
	})
}

// RunStaleQueued runs the conformance suite of projections.StaleQueuedStore
// against the stores that newStore makes.
func RunStaleQueued[S StaleQueuedStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) StaleQueuedStore { return newStore(t, o) }, []suiteTest[StaleQueuedStore]{
		{"TaskViewsStaleQueued", testTaskViewsStaleQueued},
		{"TaskViewsStaleQueuedLimits", testTaskViewsStaleQueuedLimits},
		{"TaskViewsStaleQueuedValidation", testTaskViewsStaleQueuedValidation},
		{"Closed", testStaleQueuedClosed},
	})
}

// RunTaskCounts runs the conformance suite of the operators' metrics
// reads (TaskViewsCount, CheckpointList) against the stores that newStore
// makes.
func RunTaskCounts[S TaskCountStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) TaskCountStore { return newStore(t, o) }, []suiteTest[TaskCountStore]{
		{"TaskViewsCount", testTaskViewsCount},
	})
}

// RunRetention runs the conformance suite of eventstore.PruneStore and
// projections.EndedTaskStore, which retention uses together, against the
// stores that newStore makes.
func RunRetention[S RetentionStore](t *testing.T, newStore Opener[S]) {
	runSuite(t, func(t *testing.T, o eventstore.Options) RetentionStore { return newStore(t, o) }, []suiteTest[RetentionStore]{
		{"TaskPrune", testTaskPrune},
		{"TaskPruneRefused", testTaskPruneRefused},
		{"TaskPruneConcurrent", testTaskPruneConcurrent},
		{"TaskViewsEndedOfTenant", testTaskViewsEndedOfTenant},
		{"PrunedMark", testPrunedMark},
		{"RetentionLimits", testRetentionLimits},
		{"RetentionValidation", testRetentionValidation},
		{"Closed", testRetentionClosed},
	})
}
