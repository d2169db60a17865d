package eventstore

import (
	"context"
	"time"
)

// PruneStore prunes finished tasks once their plan's retention has passed:
// their events lose their payloads and salts but keep their digests, so
// each task's hash chain still verifies while its output is gone. Pruning
// is the one change the store ever makes to a stored event. It is a port of
// its own beside the log (see Store); the tasks to prune are found through
// the task list read model (projections.EndedTaskStore). Both engines'
// stores implement it; eventstore/storetest.RunRetention is its conformance
// suite.
type PruneStore interface {
	// TaskPrune prunes a finished task, in one transaction: it sets the
	// payload and salt of each event of the task's stream that still has
	// them to NULL (reads return them as nil), and marks the task's read
	// model row, if it has one and it is not marked yet, pruned at at (so
	// that projections.EndedTaskStore no longer lists it). It returns how
	// many events it pruned. It is idempotent: a task pruned before prunes
	// 0 events (and is marked again if a rebuild cleared its mark), and
	// concurrent calls prune each event once. Events keep their ids, seqs,
	// times, digests and hashes, so integrity.Verify still passes on the
	// stream. Only a task stream whose last event ends the task
	// (domain.EventType.Terminal) is pruned: any other stream, or an
	// unknown one, fails with a *domain.ValidationError (field "task_id")
	// and nothing changes. Invalid arguments fail the same way before any
	// I/O: an invalid task id (field "task_id"), or a time that is unset or
	// whose UTC year is outside 0001–9999 (field "at").
	TaskPrune(ctx context.Context, taskID string, at time.Time) (int, error)
}
