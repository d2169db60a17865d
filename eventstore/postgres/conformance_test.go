package postgres

import (
	"testing"

	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/storetest"
)

// conformanceStore opens a fresh store on a database of its own: the
// storetest.Opener of every conformance suite.
func conformanceStore(t *testing.T, opts eventstore.Options) *Store {
	s, _ := openStore(t, Config{Options: opts})
	return s
}

// One test per port: each runs that port's conformance suite.

func TestLogConformance(t *testing.T) {
	t.Parallel()
	storetest.RunLog(t, conformanceStore)
}

func TestAppendBatchConformance(t *testing.T) {
	t.Parallel()
	storetest.RunAppendBatch(t, conformanceStore)
}

func TestLeasesConformance(t *testing.T) {
	t.Parallel()
	storetest.RunLeases(t, conformanceStore)
}

func TestTaskStartsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunTaskStarts(t, conformanceStore)
}

func TestAPIKeyUsageConformance(t *testing.T) {
	t.Parallel()
	storetest.RunAPIKeyUsage(t, conformanceStore)
}

func TestWaitingConformance(t *testing.T) {
	t.Parallel()
	storetest.RunWaiting(t, conformanceStore)
}

func TestStaleQueuedConformance(t *testing.T) {
	t.Parallel()
	storetest.RunStaleQueued(t, conformanceStore)
}

func TestTaskCountsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunTaskCounts(t, conformanceStore)
}

func TestRetentionConformance(t *testing.T) {
	t.Parallel()
	storetest.RunRetention(t, conformanceStore)
}

func TestMerkleConformance(t *testing.T) {
	t.Parallel()
	storetest.RunMerkle(t, conformanceStore)
}

func TestWebhookSecretsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunWebhookSecrets(t, conformanceStore)
}

func TestOAuthConformance(t *testing.T) {
	t.Parallel()
	storetest.RunOAuth(t, conformanceStore)
}

func TestTenantSecretsConformance(t *testing.T) {
	t.Parallel()
	storetest.RunTenantSecrets(t, conformanceStore)
}

func TestWebhookDeliveriesConformance(t *testing.T) {
	t.Parallel()
	storetest.RunWebhookDeliveries(t, conformanceStore)
}

func TestTenantFeedConformance(t *testing.T) {
	t.Parallel()
	storetest.RunTenantFeed(t, conformanceStore)
}
