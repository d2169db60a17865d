package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
)

// TaskViewsName is the checkpoint name of the task list read model. It is
// stored in databases and must never change: a new name rebuilds from zero.
const TaskViewsName = "task_views"

// MaxTaskListLimit bounds TaskQuery.Limit.
const MaxTaskListLimit = 100

// TaskView is one task as the task list shows it. Times are UTC with
// microsecond precision; a zero time means the task has not got there.
type TaskView struct {
	TaskID   string
	TenantID string
	Name     string
	Adapter  string
	State    domain.TaskState
	// Attempt is the attempt last queued or started (0 before the first).
	Attempt   int
	CreatedAt time.Time
	// QueuedAt is when the task was last queued: the time of the latest
	// task.queued event applied (a retry queues a task again); zero when
	// it never was. Rows projected before the stores' migration 0008 that
	// were not queued then keep it zero until they are queued again or the
	// read model is rebuilt.
	QueuedAt  time.Time
	StartedAt time.Time
	EndedAt   time.Time
	// LastSeq is the seq of the last event of the task applied to the row.
	LastSeq int64
	// LastPosition is the feed position of that event.
	LastPosition int64
}

// TaskCursor is a place in a task list, newest first: the list continues
// with the tasks strictly older than (CreatedAt, TaskID).
type TaskCursor struct {
	CreatedAt time.Time
	TaskID    string
}

// TaskQuery selects a page of one tenant's task list, newest first.
type TaskQuery struct {
	// TenantID is required: a list never spans tenants.
	TenantID string
	// State, when not empty, keeps only the tasks in that state.
	State domain.TaskState
	// Limit is the page size, 1 to MaxTaskListLimit.
	Limit int
	// After, when not nil, starts the page after that task (keyset
	// pagination: no duplicates or gaps while tasks are added).
	After *TaskCursor
	// CreatedAfter and CreatedBefore, when not zero, keep only the tasks
	// created strictly after, and strictly before, these times, to the
	// microsecond (the precision of CreatedAt; finer digits are dropped).
	// Both bound the range of the list's index that a page reads, so they
	// cost nothing more than the list without them.
	CreatedAfter, CreatedBefore time.Time
}

// Start returns the place the page starts after: q.After, or the end of
// CreatedBefore when that comes first (every task created before it
// follows that place in the list); ok is false when neither bounds the
// list, which then starts with the newest task.
func (q TaskQuery) Start() (c TaskCursor, ok bool) {
	if !q.CreatedBefore.IsZero() {
		c, ok = TaskCursor{CreatedAt: q.CreatedBefore}, true // "" sorts before every task id
	}
	if q.After != nil && (!ok || q.After.CreatedAt.Before(c.CreatedAt)) {
		c, ok = *q.After, true
	}
	return c, ok
}

// Validate reports what is wrong with q as a *domain.ValidationError.
func (q TaskQuery) Validate() error {
	switch {
	case q.TenantID == "":
		return &domain.ValidationError{Field: "tenant_id", Reason: "is required"}
	case q.State != "" && !ValidState(q.State):
		return &domain.ValidationError{Field: "state", Reason: fmt.Sprintf("is %q; it must be one of created, queued, running, succeeded, failed, canceled, timed_out", q.State)}
	case q.Limit < 1 || q.Limit > MaxTaskListLimit:
		return &domain.ValidationError{Field: "limit", Reason: fmt.Sprintf("is %d; it must be between 1 and %d", q.Limit, MaxTaskListLimit)}
	case q.After != nil && (q.After.TaskID == "" || q.After.CreatedAt.IsZero()):
		return &domain.ValidationError{Field: "cursor", Reason: "is incomplete"}
	case !q.CreatedAfter.IsZero() && !q.CreatedBefore.IsZero() && !q.CreatedAfter.Before(q.CreatedBefore):
		return &domain.ValidationError{Field: "created_before", Reason: fmt.Sprintf("is %s, not later than created_after (%s): no task is created between them",
			q.CreatedBefore.UTC().Format(time.RFC3339Nano), q.CreatedAfter.UTC().Format(time.RFC3339Nano))}
	}
	return nil
}

// ValidState reports whether a task can be listed in state s.
func ValidState(s domain.TaskState) bool {
	switch s {
	case domain.StateCreated, domain.StateQueued, domain.StateRunning, domain.StateSucceeded,
		domain.StateFailed, domain.StateCanceled, domain.StateTimedOut:
		return true
	case domain.StateNew:
	}
	return false
}

// TaskCounts is the task list read model summed over every tenant: what
// the operators' metrics show (package internal/metrics). It lags the log
// by the projection's delay.
type TaskCounts struct {
	// ByState counts the tasks in each state; a state without tasks is
	// absent.
	ByState map[domain.TaskState]int64
	// OldestQueuedAt is when the task queued the longest ago was queued
	// (its QueuedAt); zero when no task is queued.
	OldestQueuedAt time.Time
}

// TaskViewStore stores the task list read model. The event stores implement
// it in their own database; implementations are safe for concurrent use.
type TaskViewStore interface {
	// TaskViewsApply applies events, the feed positions from, from+1, …, to
	// the rows of the tasks they touch and moves the checkpoint name from
	// from to from+len(events), in one transaction. When the checkpoint is
	// not at from (another runner moved it, or a reset) it fails with a
	// *CheckpointError (errors.Is ErrCheckpointMoved) and changes nothing.
	TaskViewsApply(ctx context.Context, name string, from int64, events []domain.Event) error
	// TaskViewsCheckpoint returns the next feed position checkpoint name
	// will apply (0 for a checkpoint never written).
	TaskViewsCheckpoint(ctx context.Context, name string) (int64, error)
	// TaskViewsReset deletes every row and sets checkpoint name to 0, in one
	// transaction, so that the read model rebuilds from the start of the feed.
	TaskViewsReset(ctx context.Context, name string) error
	// TaskViewsList returns a page of q.TenantID's tasks, newest first
	// (created_at, then task_id, descending). It fails with a
	// *domain.ValidationError when q is invalid (see TaskQuery.Validate).
	TaskViewsList(ctx context.Context, q TaskQuery) ([]TaskView, error)
}

// StaleQueuedStore finds, through the task list read model, the queued
// tasks whose work message may have been lost. It is kept by the store
// that keeps the read model (TaskViewStore), in the same database as the
// leases and the waiting list it also reads. Both engines' stores
// implement it; eventstore/storetest.RunStaleQueued is its conformance
// suite.
type StaleQueuedStore interface {
	// TaskViewsStaleQueued returns the queued tasks, of every tenant, whose
	// work message may have been lost (a bus stream trimmed, a crash
	// between the commit and the publish): those that the read model shows
	// queued since strictly before queuedBefore, that hold no lease
	// (expired ones included: the watchdog takes those back) and that are
	// not marked waiting (eventstore.WaitingStore lists those). The oldest
	// queued come first: in order of Since, the task's latest task.queued
	// time, then of TaskID (byte order); at most limit of them
	// (eventstore.DefaultWaitingTasksLimit for a limit <= 0). It has no
	// cursor: dispatch the tasks of a page and ask again, and the claimed
	// ones are gone. The read model lags the log: a task queued but not yet
	// projected is not listed, and a listed task may have started, or
	// ended and dropped its lease, since; its rows are hints, and a claim
	// checks the task's stream again. A task queued again (a retry) counts
	// from its latest queuing. It sees every call that has returned
	// (TaskViewsApply, lease and waiting list calls too). Invalid arguments
	// fail with a *domain.ValidationError before any I/O: a time that is
	// unset or whose UTC year is outside 0001–9999 (field "queued_before"),
	// or a limit above eventstore.MaxWaitingTasksLimit (field "limit").
	TaskViewsStaleQueued(ctx context.Context, queuedBefore time.Time, limit int) ([]eventstore.WaitingTask, error)
}

// Limits of the listings of EndedTaskStore.
const (
	// DefaultRetentionListLimit is the page size of a limit <= 0.
	DefaultRetentionListLimit = 100
	// MaxRetentionListLimit is the largest page a listing returns; a larger
	// limit is an error, not clamped.
	MaxRetentionListLimit = 1000
)

// EndedTaskStore lists, through the task list read model, the finished
// tasks that retention may prune (eventstore.PruneStore prunes them). A
// task is listed once its row has an end time and until TaskPrune has
// marked the row pruned. The mark belongs to the read model, not the log: a
// rebuild of the read model clears it, and the tasks are then listed (and
// pruned, a no-op on pruned events) again. A task ended in the log but not
// yet projected is not listed. Both engines' stores implement it, and every
// method sees every call that has returned; eventstore/storetest.RunRetention
// is its conformance suite. Invalid arguments fail with a
// *domain.ValidationError before any I/O: a time that is unset or whose UTC
// year is outside 0001–9999 (field "ended_before"), or a limit above
// MaxRetentionListLimit (field "limit").
type EndedTaskStore interface {
	// TaskViewsTenantsWithEnded returns the ids of the tenants that have
	// tasks listed for pruning that ended strictly before endedBefore: each
	// tenant once, in ascending byte order, strictly after afterTenantID
	// ("" for the first page; otherwise a valid identifier, field
	// "after_tenant_id"), at most limit of them (DefaultRetentionListLimit
	// for a limit <= 0).
	TaskViewsTenantsWithEnded(ctx context.Context, endedBefore time.Time, afterTenantID string, limit int) ([]string, error)

	// TaskViewsEndedOfTenant returns the ids of tenantID's tasks listed for
	// pruning that ended strictly before endedBefore, the earliest ended
	// first (ties in byte order of id), at most limit of them
	// (DefaultRetentionListLimit for a limit <= 0). It has no cursor: prune
	// the tasks of a page and ask again, and the pruned ones are gone. An
	// invalid tenant id fails on field "tenant_id".
	TaskViewsEndedOfTenant(ctx context.Context, tenantID string, endedBefore time.Time, limit int) ([]string, error)
}

// ErrCheckpointMoved says that a read model's checkpoint was not where an
// apply expected it.
var ErrCheckpointMoved = errors.New("projection checkpoint moved")

// CheckpointError is the error of an apply whose checkpoint has moved.
type CheckpointError struct {
	Name     string
	Expected int64
	Actual   int64
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("projection %s: checkpoint is at %d, not %d: another runner or a reset moved it", e.Name, e.Actual, e.Expected)
}

// Is makes errors.Is(err, ErrCheckpointMoved) hold.
func (e *CheckpointError) Is(target error) bool { return target == ErrCheckpointMoved }

// CheckBatch checks that events are the feed positions from, from+1, …
// Stores call it before applying a batch.
func CheckBatch(from int64, events []domain.Event) error {
	if from < 0 {
		return fmt.Errorf("apply from position %d: positions start at 0", from)
	}
	for i := range events {
		if want := from + int64(i); events[i].Position != want {
			return fmt.Errorf("apply from position %d: event %d has position %d, not %d", from, i, events[i].Position, want)
		}
	}
	return nil
}

// TaskViewIDs returns the ids of the tasks events touch, each once, in the
// order they first appear.
func TaskViewIDs(events []domain.Event) []string {
	seen := make(map[string]bool)
	var ids []string
	for i := range events {
		e := &events[i]
		if e.StreamType != domain.StreamTask || seen[e.StreamID] {
			continue
		}
		seen[e.StreamID] = true
		ids = append(ids, e.StreamID)
	}
	return ids
}

// EvolveTaskView applies one event to a task's row; v is the zero TaskView
// for a task without a row. It ignores events of other stream types and
// events at or before v.LastSeq (already applied: a stream's seqs grow
// with its feed positions, and an event read from the stream before the
// feed has given it a position is placed by its seq all the same), and
// reports whether it changed v. It is pure: the row depends on the events
// only. Only the events of domain.TaskLifecycleTypes change more of the row
// than its LastSeq and LastPosition.
func EvolveTaskView(v *TaskView, e *domain.Event) (bool, error) {
	if e.StreamType != domain.StreamTask {
		return false, nil
	}
	if v.TaskID != "" && e.Seq <= v.LastSeq {
		return false, nil
	}
	if v.TaskID == "" {
		// The first event of a task is task.created, whose time is the
		// task's; CreatedAt is set here too so that a row is never without
		// one.
		v.TaskID, v.TenantID, v.CreatedAt, v.State = e.StreamID, e.TenantID, e.OccurredAt, domain.StateCreated
	}
	p, err := decodeTaskPayload(e)
	if err != nil {
		return false, fmt.Errorf("task view of %s: event %d (%s): %w", e.StreamID, e.Seq, e.Type, err)
	}
	switch e.Type {
	case domain.TaskCreatedType:
		v.State, v.CreatedAt = domain.StateCreated, e.OccurredAt
		if p, ok := p.(*domain.TaskCreated); ok {
			v.Name, v.Adapter = p.Name, p.Adapter
		}
	case domain.TaskQueuedType:
		v.State, v.QueuedAt = domain.StateQueued, e.OccurredAt
		if p, ok := p.(*domain.TaskQueued); ok {
			v.Attempt = p.Attempt
		}
	case domain.TaskStartedType:
		v.State, v.StartedAt = domain.StateRunning, e.OccurredAt
		if p, ok := p.(*domain.TaskStarted); ok {
			v.Attempt = p.Attempt
		}
	case domain.TaskSucceededType:
		v.State, v.EndedAt = domain.StateSucceeded, e.OccurredAt
	case domain.TaskFailedType:
		v.State, v.EndedAt = domain.StateFailed, e.OccurredAt
	case domain.TaskCanceledType:
		v.State, v.EndedAt = domain.StateCanceled, e.OccurredAt
	case domain.TaskTimedOutType:
		v.State, v.EndedAt = domain.StateTimedOut, e.OccurredAt
	default:
		// Output, progress, waiting, cancel requests and lost leases move
		// only the row's last seq and position.
	}
	v.LastSeq, v.LastPosition = e.Seq, e.Position
	return true, nil
}

// decodeTaskPayload decodes the payloads the row reads: those of
// task.created, task.queued and task.started, unless pruned (nil). It
// returns nil for the others.
func decodeTaskPayload(e *domain.Event) (any, error) {
	switch e.Type {
	case domain.TaskCreatedType, domain.TaskQueuedType, domain.TaskStartedType:
		if e.Payload == nil {
			return nil, nil
		}
		return domain.Decode(e.Type, e.Payload)
	default:
		return nil, nil
	}
}

// FoldTaskViews applies events, in order, to the rows current holds (by task
// id; a task without a row is absent) and returns the rows that changed, in
// the order their tasks first appear in events. It does not modify current.
func FoldTaskViews(current map[string]TaskView, events []domain.Event) ([]TaskView, error) {
	rows := make(map[string]*TaskView)
	var order []string
	for i := range events {
		e := &events[i]
		if e.StreamType != domain.StreamTask {
			continue
		}
		v, ok := rows[e.StreamID]
		if !ok {
			row := current[e.StreamID]
			v = &row
		}
		changed, err := EvolveTaskView(v, e)
		if err != nil {
			return nil, err
		}
		if changed && !ok {
			rows[e.StreamID] = v
			order = append(order, e.StreamID)
		}
	}
	out := make([]TaskView, 0, len(order))
	for _, id := range order {
		out = append(out, *rows[id])
	}
	return out, nil
}
