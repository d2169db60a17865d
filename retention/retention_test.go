package retention_test

import (
	"context"
	"encoding/json"
	"fmt"
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
			if n, err := job.RunOnce(ctx); err != nil || n.Tasks != want {
				t.Fatalf("run %d pruned %d tasks (%v), want %d", run+1, n.Tasks, err, want)
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

// Webhook deliveries that ended follow their tenant's retention: a tenant
// kept 1 day loses them 2 days later, one kept 30 days does not; pending
// ones stay.
func TestPrunesWebhookDeliveriesPastRetention(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		ctx := t.Context()
		now := time.Now()
		var ds []eventstore.WebhookDelivery
		for i, tenant := range []string{"short", "long", "short"} {
			ds = append(ds, eventstore.WebhookDelivery{ID: fmt.Sprint("msg_", i), WebhookID: "wh-" + tenant, TenantID: tenant, Position: int64(i),
				StreamID: "s", Seq: int64(i + 1), EventType: domain.TaskSucceededType, NextAttemptAt: now, CreatedAt: now})
		}
		if err := s.WebhookDispatchApply(ctx, "dispatch", 0, 3, nil, ds); err != nil {
			t.Fatal(err)
		}
		for _, d := range ds[:2] { // the third stays pending
			if _, err := s.WebhookDeliveryClaim(ctx, now, now.Add(time.Minute), 10); err != nil {
				t.Fatal(err)
			}
			if err := s.WebhookDeliveryRecord(ctx, eventstore.WebhookAttempt{DeliveryID: d.ID, Attempt: 1, At: now, StatusCode: 204}, eventstore.DeliverySucceeded, now, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		days := map[string]int{"short": 1, "long": 30}
		job, err := retention.New(retention.Config{
			Store:            s,
			RetentionFunc:    func(_ context.Context, tenant string) (int, error) { return days[tenant], nil },
			MinRetentionDays: 1,
			NowFunc:          func() time.Time { return now.Add(48 * time.Hour) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := job.RunOnce(ctx); err != nil || n.Deliveries != 1 {
			t.Fatalf("pruned %+v (%v), want 1 delivery", n, err)
		}
		for webhook, want := range map[string]int{"wh-short": 1, "wh-long": 1} {
			if left, err := s.WebhookDeliveryList(ctx, webhook, 1<<62, 10); err != nil || len(left) != want {
				t.Errorf("%s keeps %d deliveries (%v), want %d", webhook, len(left), err, want)
			}
		}
	})
}
