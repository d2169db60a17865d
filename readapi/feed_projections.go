package readapi

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	wire "github.com/axontask/axontask/api"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/projections"
)

// Bounds of a feedProjector.
const (
	// maxProjectedTasks bounds the task rows one GET /v1/events request
	// keeps; past it, one is dropped (and derived again if it is met again).
	maxProjectedTasks = 1000
	// projectorPageSize is the page in which a task's stream is read to
	// derive its row as of an event.
	projectorPageSize = 1000
	// maxSnapshotTasks bounds the tasks taskSnapshots keeps, and
	// snapshotsPerTask the states it keeps of each.
	maxSnapshotTasks = 4096
	snapshotsPerTask = 4
)

// feedProjector derives, for each event of a tenant's feed, the read model
// rows the event changes (GET /v1/events?include=projections), with the
// read models' own folds (projections.EvolveTaskView, projections.FoldUsage)
// applied to the events themselves. It never reads the read models: those
// run ahead of a consumer that replays the feed, or lag behind a live one,
// whereas a row derived from the events at a position is that position's
// row, the same on every read and every resume.
//
// It keeps the rows of the tasks it has met, as of their last event it
// applied, and at the end of each page hands them to the process's
// taskSnapshots, where the next request of a consumer that pages through
// the feed finds them. A task met for the first time past its first event
// costs a read of the task's stream from the latest snapshot before that
// event (from its start when there is none); after that each event of the
// task costs nothing more. One feedProjector serves one request and is not
// safe for concurrent use.
type feedProjector struct {
	store     Store
	snapshots *taskSnapshots
	tasks     map[string]*projectedTask
	touched   []string // the tasks of the page, to snapshot
}

// projectedTask is a task's row and its open run (the usage counters'
// state of the task), as of the task's event LastSeq.
type projectedTask struct {
	view projections.TaskView
	// runs holds the task's run while an attempt runs: FoldUsage's map.
	runs map[string]projections.UsageRun
}

func newFeedProjector(store Store, snapshots *taskSnapshots) *feedProjector {
	return &feedProjector{store: store, snapshots: snapshots, tasks: make(map[string]*projectedTask)}
}

// clone returns a copy of t that shares nothing with it.
func (t *projectedTask) clone() *projectedTask {
	c := &projectedTask{view: t.view, runs: make(map[string]projections.UsageRun, len(t.runs))}
	for id, r := range t.runs {
		c.runs[id] = r
	}
	return c
}

// taskSnapshots keeps, across the requests of one process, the derived
// states of recently projected tasks at a few seqs each (a consumer
// paging through the feed needs the one its last page ended at; a live
// stream the latest). Every state is exact, being derived from the events
// alone, so any of them is a correct start. It is bounded (maxSnapshotTasks
// tasks, snapshotsPerTask states each; past that an arbitrary task goes)
// and safe for concurrent use.
type taskSnapshots struct {
	mu    sync.Mutex
	tasks map[string][]*projectedTask // by LastSeq, ascending
}

func newTaskSnapshots() *taskSnapshots {
	return &taskSnapshots{tasks: make(map[string][]*projectedTask)}
}

// latest returns a copy of the latest state of task id at or before seq
// upTo, or nil.
func (c *taskSnapshots) latest(id string, upTo int64) *projectedTask {
	c.mu.Lock()
	defer c.mu.Unlock()
	states := c.tasks[id]
	for i := len(states) - 1; i >= 0; i-- {
		if states[i].view.LastSeq <= upTo {
			return states[i].clone()
		}
	}
	return nil
}

// keep stores a copy of t's state.
func (c *taskSnapshots) keep(id string, t *projectedTask) {
	c.mu.Lock()
	defer c.mu.Unlock()
	states := c.tasks[id]
	i, found := slices.BinarySearchFunc(states, t.view.LastSeq, func(s *projectedTask, seq int64) int { return cmp.Compare(s.view.LastSeq, seq) })
	if found {
		return
	}
	if states == nil && len(c.tasks) >= maxSnapshotTasks {
		for other := range c.tasks {
			delete(c.tasks, other)
			break
		}
	}
	states = slices.Insert(states, i, t.clone())
	if len(states) > snapshotsPerTask {
		states = slices.Delete(states, 0, 1) // the oldest
	}
	c.tasks[id] = states
}

// endPage hands the states of the page's tasks to the snapshots.
func (p *feedProjector) endPage() {
	for _, id := range p.touched {
		if t, ok := p.tasks[id]; ok {
			p.snapshots.keep(id, t)
		}
	}
	p.touched = p.touched[:0]
}

// project returns what e changed: the task's row after it (nil for an
// event not of a task) and its usage increment (nil when it counts
// nothing). e is an event of the feed, with its position, and the tenant's
// events must come to it in feed order.
func (p *feedProjector) project(ctx context.Context, e *domain.Event) (*projections.TaskView, *projections.UsageDay, error) {
	if e.StreamType != domain.StreamTask {
		changes, err := projections.FoldUsage(nil, []domain.Event{*e})
		return nil, usageIncrement(changes), err
	}
	t, err := p.task(ctx, e)
	if err != nil {
		return nil, nil, err
	}
	changed, err := projections.EvolveTaskView(&t.view, e)
	if err != nil {
		return nil, nil, err
	}
	changes, err := t.fold([]domain.Event{*e})
	if err != nil {
		return nil, nil, err
	}
	var row *projections.TaskView
	if changed {
		v := t.view
		row = &v
	}
	if t.view.State.Terminal() && len(t.runs) == 0 {
		p.snapshots.keep(e.StreamID, t)
		delete(p.tasks, e.StreamID) // nothing more to remember here
	} else if !slices.Contains(p.touched, e.StreamID) {
		p.touched = append(p.touched, e.StreamID)
	}
	return row, usageIncrement(changes), nil
}

// usageIncrement returns the one day a single event's changes count on,
// or nil.
func usageIncrement(c projections.UsageChanges) *projections.UsageDay {
	if len(c.Days) == 0 {
		return nil
	}
	return &c.Days[0]
}

// task returns e's task as of the event before e: the one kept when it is
// there, else derived from the task's stream, from the latest snapshot
// before e.
func (p *feedProjector) task(ctx context.Context, e *domain.Event) (*projectedTask, error) {
	if t, ok := p.tasks[e.StreamID]; ok && t.view.LastSeq == e.Seq-1 {
		return t, nil
	}
	t := p.snapshots.latest(e.StreamID, e.Seq-1)
	if t == nil {
		t = &projectedTask{runs: make(map[string]projections.UsageRun)}
	}
	for after := t.view.LastSeq; after < e.Seq-1; {
		page, err := p.store.ReadStream(ctx, e.StreamID, after, int(min(projectorPageSize, e.Seq-1-after)))
		if err != nil {
			return nil, fmt.Errorf("derive the row of task %s: %w", e.StreamID, err)
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			if _, err := projections.EvolveTaskView(&t.view, &page[i]); err != nil {
				return nil, err
			}
		}
		if _, err := t.fold(page); err != nil {
			return nil, err
		}
		after = page[len(page)-1].Seq
	}
	if len(p.tasks) >= maxProjectedTasks {
		for id := range p.tasks {
			delete(p.tasks, id)
			break
		}
	}
	p.tasks[e.StreamID] = t
	return t, nil
}

// fold applies events of the task to its run and returns their usage
// changes.
func (t *projectedTask) fold(events []domain.Event) (projections.UsageChanges, error) {
	changes, err := projections.FoldUsage(t.runs, events)
	if err != nil {
		return changes, err
	}
	for _, r := range changes.Started {
		t.runs[r.TaskID] = r
	}
	for _, id := range changes.Ended {
		delete(t.runs, id)
	}
	return changes, nil
}

// projectionFrames returns the projection changes of e, in frame order (the
// task's row, then the usage increment), those of types kept by keep.
func (p *feedProjector) projectionFrames(ctx context.Context, e *domain.Event, keep func(string) bool) ([]wire.FeedProjection, error) {
	row, inc, err := p.project(ctx, e)
	if err != nil {
		return nil, err
	}
	var out []wire.FeedProjection
	if row != nil && keep(wire.ProjectionTaskType) {
		task, err := taskOf(*row)
		if err != nil {
			return nil, err
		}
		out = append(out, wire.FeedProjection{ID: frameID(e.Position, partTask), Position: e.Position, Type: wire.ProjectionTaskType, Task: &task})
	}
	if inc != nil && keep(wire.ProjectionUsageType) {
		day := wire.UsageDay{Day: inc.Day.Format(time.DateOnly), UsageCounts: usageCounts(inc.UsageCounts)}
		out = append(out, wire.FeedProjection{ID: frameID(e.Position, partUsage), Position: e.Position, Type: wire.ProjectionUsageType, Usage: &day})
	}
	return out, nil
}
