package commands_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/axontask/axontask/commands"
	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/eventstore"
	"github.com/axontask/axontask/eventstore/sqlite"
)

// Start a task, then cancel it before a worker claims it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "axontask-example-")
	if err != nil {
		panic(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), eventstore.Options{})
	if err != nil {
		panic(err)
	}
	defer func() { _ = store.Close() }()

	start, err := commands.NewStartTaskHandler(store, commands.StartTaskConfig{})
	if err != nil {
		panic(err)
	}
	cancel, err := commands.NewCancelTaskHandler(store, commands.CancelTaskConfig{})
	if err != nil {
		panic(err)
	}

	started, err := start.Handle(ctx, commands.StartTask{
		TenantID:  "tenant-1",
		Name:      "tests",
		Adapter:   domain.AdapterShell,
		Args:      json.RawMessage(`{"command": ["make", "test"]}`),
		CommandID: "client-key-1", // a retry with this key starts no second task
		Meta:      domain.Metadata{Actor: "user:ada"},
	})
	if err != nil {
		panic(err)
	}
	for _, e := range started.Events {
		fmt.Println(e.Seq, e.Type, string(e.Payload))
	}

	canceled, err := cancel.Handle(ctx, commands.CancelTask{TaskID: started.TaskID, TenantID: "tenant-1", Reason: "not needed"})
	if err != nil {
		panic(err)
	}
	fmt.Println(canceled.LastSeq, canceled.Events[0].Type, canceled.State)
	// Output:
	// 1 task.created {"adapter":"shell","args":{"command":["make","test"]},"name":"tests","timeout_s":3600}
	// 2 task.queued {"attempt":1,"reason":"created"}
	// 3 task.canceled canceled
}
