package worker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/teststores"
)

// limitedRunner returns a runner whose tenants are all on a trial plan
// with limits.
func limitedRunner(t *testing.T, b *bundle, id string, limits domain.TaskLimits) *worker.Runner {
	t.Helper()
	r, err := worker.New(b.store, worker.Config{WorkerID: id, Executors: newRunnerExecutors(t),
		PlanFunc: func(context.Context, string) (worker.TenantPlan, error) {
			return worker.TenantPlan{Name: domain.PlanTrial, Limits: limits}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// outputUsed returns what a task's output takes in its log, as the limits
// count it: the bytes of its output payloads, and its output and progress
// events.
func outputUsed(events []domain.Event) (bytes, count int64) {
	for _, e := range events {
		switch e.Type {
		case domain.TaskOutputType:
			bytes += int64(len(e.Payload))
			count++
		case domain.TaskProgressType:
			count++
		default:
		}
	}
	return bytes, count
}

// failure returns the error of the task.failed that ends events.
func failure(t *testing.T, events []domain.Event) string {
	t.Helper()
	end := last(events)
	if end.Type != domain.TaskFailedType {
		t.Fatalf("ended with %s, want task.failed", end.Type)
	}
	p, err := domain.Decode(end.Type, end.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*domain.TaskFailed).Error
}

// A task that prints past an output limit of its plan is stopped and
// fails saying which limit it reached and how to raise it; its log keeps
// its output up to the limit, and nothing past it.
func TestOutputLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limits domain.TaskLimits
		args   string
		want   string // in the failure
	}{
		{"bytes", domain.TaskLimits{OutputBytes: 100_000}, `{"command":["yes","xxxxxxxxxxxxxxxx"]}`,
			"output limit reached: the task's output reached 100000 bytes in its log, a limit of the trial plan; a plan with a higher limit raises it"},
		{"events", domain.TaskLimits{OutputEvents: 50}, `{"command":["yes","::progress 50 working"]}`,
			"output limit reached: the task wrote 50 output and progress events, a limit of the trial plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
				b := setup(t, s)
				id := b.startTask(t, domain.AdapterShell, tc.args, 60)
				if err := limitedRunner(t, b, "w1", tc.limits).Run(t.Context(), id, tenant); err != nil {
					t.Fatalf("Run: %v", err)
				}
				events := b.events(t, id)
				if got := failure(t, events); !strings.Contains(got, tc.want) {
					t.Errorf("failure %q, want it to say %q", got, tc.want)
				}
				bytes, count := outputUsed(events)
				if (tc.limits.OutputBytes > 0 && (bytes > tc.limits.OutputBytes || bytes < tc.limits.OutputBytes/2)) ||
					(tc.limits.OutputEvents > 0 && count != tc.limits.OutputEvents) {
					t.Errorf("the log keeps %d bytes of output in %d events; want them up to the limits %+v, and not past them", bytes, count, tc.limits)
				}
			})
		})
	}
}

// Output within the limits leaves a task alone.
func TestOutputWithinLimits(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		id := b.startTask(t, domain.AdapterShell, `{"command":["sh","-c","echo ::progress 50 half; echo done"]}`, 60)
		if err := limitedRunner(t, b, "w1", domain.TaskLimits{OutputBytes: 1 << 20, OutputEvents: 2}).Run(t.Context(), id, tenant); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := last(b.events(t, id)).Type; got != domain.TaskSucceededType {
			t.Fatalf("a task that printed up to its limits ended with %s, want task.succeeded", got)
		}
	})
}

// The output limits count over all of a task's attempts: a task handed
// back after writing some of its budget goes on from there.
func TestOutputLimitsSpanAttempts(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		b := setup(t, s)
		dir := t.TempDir()
		// Four progress events per attempt, and a line at the end of the second.
		id := b.startTask(t, domain.AdapterShell, twoAttempts(dir, "for i in 1 2 3 4; do echo ::progress $i step; done; ", "echo done"), 60)
		limits := domain.TaskLimits{OutputEvents: 6}
		runFirstAttempt(t, limitedRunner(t, b, "w1", limits), id, dir)
		if err := limitedRunner(t, b, "w2", limits).Run(t.Context(), id, tenant); err != nil {
			t.Fatalf("second attempt: %v", err)
		}
		events := b.events(t, id)
		if got := failure(t, events); !strings.Contains(got, "output limit reached") {
			t.Errorf("failure %q, want the output limit", got)
		}
		if _, count := outputUsed(events); count != limits.OutputEvents {
			t.Errorf("the log keeps %d output and progress events over both attempts, want the limit, %d", count, limits.OutputEvents)
		}
	})
}
