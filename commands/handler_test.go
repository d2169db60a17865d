package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axontask/axontask/commands"
)

type echo struct{}

type shout struct{ Text string }

func (echo) Handle(_ context.Context, cmd shout) (string, error) {
	if cmd.Text == "" {
		return "", errors.New("nothing to shout")
	}
	return cmd.Text + "!", nil
}

type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) CommandHandled(name, outcome string, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[name+"."+outcome]++
	c.m[name+".duration_us"] += int(took.Microseconds())
}

func TestDecorateCountsOutcomes(t *testing.T) {
	t.Parallel()
	metrics := &counts{m: map[string]int{}}
	h := commands.Decorate[shout, string](echo{}, nil, metrics)
	if got, err := h.Handle(t.Context(), shout{Text: "hi"}); got != "hi!" || err != nil {
		t.Fatalf("Handle = %q, %v; the decorator must pass the result through", got, err)
	}
	if _, err := h.Handle(t.Context(), shout{}); err == nil {
		t.Fatal("the decorator swallowed an error")
	}
	if metrics.m["shout.success"] != 1 || metrics.m["shout.failure"] != 1 {
		t.Fatalf("metrics %v, want one success and one failure of shout", metrics.m)
	}
	if _, ok := metrics.m["shout.duration_us"]; !ok {
		t.Fatalf("metrics %v: no duration", metrics.m)
	}
}
