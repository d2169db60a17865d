package eventstore

import (
	"context"
	"time"
)

// Limits of the listings of RetentionStore.
const (
	// DefaultRetentionListLimit is the page size of a limit <= 0.
	DefaultRetentionListLimit = 100
	// MaxRetentionListLimit is the largest page a listing returns; a larger
	// limit is an error, not clamped.
	MaxRetentionListLimit = 1000
)

// RetentionStore prunes finished tasks once their plan's retention has
// passed (DESIGN.md section 4): their events lose their payloads and salts
// but keep their digests, so each task's hash chain still verifies while
// its output is gone. Pruning is the one change the store ever makes to a
// stored event.
//
// The tasks to prune are found through the task list read model
// (projections.TaskViewStore, kept in the same database): a task is listed
// once its row has an end time and until PruneTask has marked the row
// pruned. The mark belongs to the read model, not the log: a rebuild of the
// read model clears it, and the tasks are then listed (and pruned, a no-op
// on pruned events) again. A task ended in the log but not yet projected is
// not listed. Both store implementations provide it, and every method sees
// every call that has returned.
type RetentionStore interface {
	// TenantsWithEndedTasks returns the ids of the tenants that have tasks
	// listed for pruning (see RetentionStore) that ended strictly before
	// endedBefore: each tenant once, in ascending byte order, strictly
	// after afterTenantID ("" for the first page), at most limit of them
	// (DefaultRetentionListLimit for a limit <= 0). Invalid arguments fail
	// with a *domain.ValidationError before any I/O (see
	// ValidateTenantsWithEndedTasks).
	TenantsWithEndedTasks(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error)

	// EndedTasks returns the ids of tenantID's tasks listed for pruning
	// that ended strictly before endedBefore, the earliest ended first
	// (ties in byte order of id), at most limit of them
	// (DefaultRetentionListLimit for a limit <= 0). It has no cursor: prune
	// the tasks of a page and ask again, and the pruned ones are gone.
	// Invalid arguments fail with a *domain.ValidationError before any I/O
	// (see ValidateEndedTasks).
	EndedTasks(ctx context.Context, tenantID string, endedBefore time.Time, limit int) ([]string, error)

	// PruneTask prunes a finished task, in one transaction: it sets the
	// payload and salt of each event of the task's stream that still has
	// them to NULL (reads return them as nil), and marks the task's read
	// model row, if it has one and it is not marked yet, pruned at at. It
	// returns how many events it pruned. It is idempotent: a task pruned
	// before prunes 0 events (and is marked again if a rebuild cleared its
	// mark), and concurrent calls prune each event once. Events keep their
	// ids, seqs, times, digests and hashes, so integrity.Verify still
	// passes on the stream. Only a task stream whose last event ends the
	// task (domain.EventType.Terminal) is pruned: any other stream, or an
	// unknown one, fails with a *domain.ValidationError (field "task_id")
	// and nothing changes. Invalid arguments fail the same way before any
	// I/O (see ValidatePruneTask).
	PruneTask(ctx context.Context, taskID string, at time.Time) (int, error)
}
