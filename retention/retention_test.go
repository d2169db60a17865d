package retention_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/integrity"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/projections"
	"github.com/axontask/axontask/retention"
)

func TestMain(m *testing.M) { testpg.Main(m) }

// Finished tasks of a tenant kept 1 day are pruned 2 days later; those of a
// tenant kept 30 days, and a task still queued, are not. A pruned task's
// log still verifies and its status still loads.
func TestPrunesPastRetention(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		ctx := t.Context()
		start, err := commands.NewStartTaskHandler(s, commands.StartTaskConfig{})
		if err != nil {
			t.Fatal(err)
		}
		cancel, err := commands.NewCancelTaskHandler(s, commands.CancelTaskConfig{})
		if err != nil {
			t.Fatal(err)
		}
		task := func(tenant string, finish bool) uuid.UUID {
			res, err := start.Handle(ctx, commands.StartTask{TenantID: tenant, Name: "t", Adapter: domain.AdapterShell,
				Args: json.RawMessage(`{"command":["echo","secret output"]}`), TimeoutS: 60})
			if err != nil {
				t.Fatal(err)
			}
			if finish {
				if _, err := cancel.Handle(ctx, commands.CancelTask{TaskID: res.TaskID, TenantID: tenant}); err != nil {
					t.Fatal(err)
				}
			}
			return res.TaskID
		}
		short, long, running := task("short", true), task("long", true), task("short", false)
		runner, err := projections.NewRunner(s, projections.TaskViews(s), projections.RunnerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		// 8 events: two finished tasks of 3, one queued of 2. The feed
		// seals them asynchronously on Postgres.
		if err := s.WaitFeed(ctx, 7); err != nil {
			t.Fatal(err)
		}
		if _, err := runner.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		days := map[string]int{"short": 1, "long": 30}
		job, err := retention.New(retention.Config{
			Store:            s,
			RetentionFunc:    func(_ context.Context, tenant string) (int, error) { return days[tenant], nil },
			MinRetentionDays: 1,
			NowFunc:          func() time.Time { return time.Now().Add(48 * time.Hour) },
		})
		if err != nil {
			t.Fatal(err)
		}
		for run, want := range []int{1, 0} { // the second run finds nothing left
			if n, err := job.RunOnce(ctx); err != nil || n != want {
				t.Fatalf("run %d pruned %d tasks (%v), want %d", run+1, n, err, want)
			}
		}
		for id, wantPruned := range map[uuid.UUID]bool{short: true, long: false, running: false} {
			events, err := s.ReadStream(ctx, id.String(), 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := integrity.Verify(events); err != nil {
				t.Fatalf("task %s: the chain no longer verifies: %v", id, err)
			}
			for _, e := range events {
				if (e.Payload == nil) != wantPruned {
					t.Fatalf("task %s event %d: payload pruned %t, want %t", id, e.Seq, e.Payload == nil, wantPruned)
				}
			}
		}
		var status domain.Task
		if err := commands.CatchUpTask(ctx, s, short, "short", &status); err != nil || status.State() != domain.StateCanceled {
			t.Fatalf("the pruned task's status: %s, %v", status.State(), err)
		}
	})
}
