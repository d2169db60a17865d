package mcpserver_test

import (
	"testing"
	"time"

	"github.com/axontask/axontask/internal/testwait"
	"github.com/axontask/axontask/mcpserver"
)

// TestGetUsageCountsCalls makes tool calls and asks get_usage: it counts
// every call flushed before it (its own comes in the next flush), the task
// started, and none of another tenant's.
func TestGetUsageCountsCalls(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *bundle) {
		s, other := b.connect(t, tenantA, ""), b.connect(t, tenantB, "")
		id := start(t, s, map[string]any{"steps": 1, "interval_ms": 1})
		follow(t, s, id)
		callOK[mcpserver.ListTasksOutput](t, other, "list_tasks", map[string]any{})
		var got mcpserver.GetUsageOutput
		var txt string
		testwait.For(t, "get_usage to count every call flushed", func() bool {
			if err := b.meter.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, txt = callOK[mcpserver.GetUsageOutput](t, s, "get_usage", map[string]any{})
			return got.TasksStarted == 1 && got.TaskMinutes == 1 && got.MCPCalls > 1 && got.Period == time.Now().UTC().Format("2006-01")
		})
		// The calls so far, made before the last flush (the read model
		// may still trail it): every one but the last get_usage, which the
		// next flush counts.
		before := got.MCPCalls
		if err := b.meter.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the last get_usage counted", func() bool {
			again, _ := callOK[mcpserver.GetUsageOutput](t, s, "get_usage", map[string]any{})
			return again.MCPCalls > before
		})
		wantText(t, "get_usage", txt, "task-minutes", got.Period)
		// Tenant B made one call before the flushes (its get_usage calls
		// are flushed by none) and started nothing.
		testwait.For(t, "tenant B's usage", func() bool {
			theirs, _ := callOK[mcpserver.GetUsageOutput](t, other, "get_usage", map[string]any{"period": got.Period})
			if theirs.TasksStarted != 0 || theirs.MCPCalls > 1 {
				t.Fatalf("tenant B's usage %+v", theirs)
			}
			return theirs.MCPCalls == 1
		})
	})
}
