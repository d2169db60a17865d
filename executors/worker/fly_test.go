package worker_test

import (
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/executors/fly"
	"github.com/axontask/axontask/executors/worker"
	"github.com/axontask/axontask/internal/flymachines"
	"github.com/axontask/axontask/internal/teststores"
	"github.com/axontask/axontask/secrets"
)

// TestRunsFlyTasks runs a fly task from start_task to its end through the
// runner, against the double of the Fly API: its args survive the round
// trip through task.created, its token is the tenant's secret that the
// worker resolved, its logs become output, its exit code the task's, and
// its machine is gone.
func TestRunsFlyTasks(t *testing.T) {
	t.Parallel()
	teststores.ForEach(t, eventstore.Options{}, func(t *testing.T, s teststores.Store) {
		api := flymachines.Start(t, "fo1_token", "app")
		fl, err := fly.New(fly.Config{APIURL: api.URL, LogsURL: api.URL, PollInterval: 10 * time.Millisecond, WaitTimeout: time.Second, LogSettle: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		execs := newRunnerExecutors(t)
		execs[domain.AdapterFly] = fl
		b := setup(t, s)
		key, _, err := secrets.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		vault := secrets.NewVault(s, secrets.NewKeyring(key), nil)
		if _, err := vault.Set(t.Context(), tenant, "FLY_TOKEN", []byte("fo1_token")); err != nil {
			t.Fatal(err)
		}
		r, err := worker.New(b.store, worker.Config{WorkerID: "w1", Executors: execs, SecretsFunc: vault.Resolve})
		if err != nil {
			t.Fatal(err)
		}
		id := b.startTask(t, domain.AdapterFly, `{"app":"app","image":"registry.fly.io/x:1","token":{"secret":"FLY_TOKEN"},"command":["print:migrating","exit:3"]}`, 60)
		if err := r.Run(t.Context(), id, tenant); err != nil {
			t.Fatalf("Run: %v", err)
		}
		events := b.events(t, id)
		p, _ := domain.Decode(last(events).Type, last(events).Payload)
		if f, ok := p.(*domain.TaskFailed); !ok || f.ExitCode == nil || *f.ExitCode != 3 {
			t.Fatalf("last event %s %+v, want task.failed with exit code 3", last(events).Type, p)
		}
		if got := output(t, events, domain.Stdout); got != "migrating\n" {
			t.Errorf("stdout %q", got)
		}
		for _, m := range api.Machines("app") {
			if m.State != "destroyed" {
				t.Errorf("machine %s left %s", m.ID, m.State)
			}
		}
	})
}
