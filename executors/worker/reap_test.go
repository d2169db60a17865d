package worker_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/teststores"
)

// leftovers is an executor that left attempts behind: Reap asks the
// worker about each and records the answers.
type leftovers struct {
	attempts []executors.Attempt
	answers  map[executors.Attempt]bool
}

func (l *leftovers) Run(context.Context, executors.Task, executors.Sink) (executors.Result, error) {
	return executors.Result{}, nil
}

func (l *leftovers) Reap(ctx context.Context, running executors.RunningFunc) (int, error) {
	l.answers = map[executors.Attempt]bool{}
	for _, a := range l.attempts {
		alive, err := running(ctx, a)
		if err != nil {
			return 0, err
		}
		l.answers[a] = alive
	}
	return 0, nil
}

func TestReapAsksWhetherAttemptsStillRun(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startTask(t, domain.AdapterMock, `{"steps":1}`, 0)
		b.crashedWorker(t, id, "worker-b") // attempt 1 runs on worker-b
		running := executors.Attempt{TaskID: id.String(), TenantID: tenant, WorkerID: "worker-b", Attempt: 1}
		otherAttempt, otherWorker, unknown, foreign := running, running, running, running
		otherAttempt.Attempt = 2
		otherWorker.WorkerID = "worker-c"
		unknown.TaskID = uuid.NewString()
		foreign.TaskID = "not-a-task-id"
		l := &leftovers{attempts: []executors.Attempt{running, otherAttempt, otherWorker, unknown, foreign}}
		r, err := worker.New(b.store, worker.Config{WorkerID: "worker-a", Executors: map[domain.Adapter]executors.Executor{domain.AdapterDocker: l}})
		if err != nil {
			t.Fatal(err)
		}
		r.Reap(t.Context())
		// Tasks this store does not know may be another deployment's,
		// sharing the engine: they count as running, and are left alone.
		want := map[executors.Attempt]bool{running: true, otherAttempt: false, otherWorker: false, unknown: true, foreign: true}
		for a, alive := range want {
			if got, ok := l.answers[a]; !ok || got != alive {
				t.Errorf("running(%+v) = %v (asked: %v), want %v", a, got, ok, alive)
			}
		}
	})
}
