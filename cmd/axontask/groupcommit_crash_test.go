package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore/postgres"
	"github.com/axontask/axontask/internal/testpg"
	"github.com/axontask/axontask/internal/testredis"
)

// TestGroupCommitSurvivesKill9: many clients start tasks at once through
// one serve process, so that their appends share group commits, and the
// process is killed with SIGKILL in the middle. Every task whose start was
// answered 201 is in the database, with its task.created and task.queued:
// a client told "accepted" was told the truth.
func TestGroupCommitSurvivesKill9(t *testing.T) {
	t.Parallel()
	const clients = 32
	databaseURL := testpg.NewDatabase(t, testpg.Fast)
	env := prodEnv(t, databaseURL, testredis.URL(t), "PLAN_TRIAL_TASKS_PER_DAY=1000000")
	api := startProc(t, env, "serve", "-port", "0")
	token := register(t, api.base, "crash@example.com")
	authorize(t, api.base, token)

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				id, status, _, err := postTask(ctx, api.base, `{"name":"crash","adapter":"mock","args":{"steps":1,"interval_ms":0}}`)
				if err != nil {
					return // the process is gone
				}
				if status == http.StatusCreated {
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
				}
			}
		})
	}
	// Kill it while starts are in flight: after some have been answered.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	api.kill9(t)
	wg.Wait()
	stop()
	if len(accepted) == 0 {
		t.Fatal("no start was answered before the kill")
	}

	store, err := postgres.Open(t.Context(), databaseURL, postgres.Config{DisableSealer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = store.Close() }()
	for _, id := range accepted {
		events, err := store.ReadStream(t.Context(), id, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) < 2 || events[0].Type != domain.TaskCreatedType || events[1].Type != domain.TaskQueuedType {
			t.Fatalf("task %s was answered 201 before the kill, and after it holds %d events", id, len(events))
		}
	}
	t.Logf("%d accepted starts, all stored", len(accepted))
}
