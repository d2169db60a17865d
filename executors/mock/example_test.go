package mock_test

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/mock"
)

// printSink prints what a task reports.
type printSink struct{}

func (printSink) Output(stream domain.OutputStream, data []byte) { fmt.Printf("%s: %s", stream, data) }
func (printSink) Progress(percent float64, message string) {
	fmt.Printf("progress: %g%% %s\n", percent, message)
}

func ExampleExecutor_Run() {
	args, err := domain.ParseArgs(domain.AdapterMock, []byte(`{"steps": 2, "interval_ms": 10, "fail_at_step": 2}`))
	if err != nil {
		panic(err)
	}
	res, err := mock.New(mock.Options{}).Run(context.Background(), executors.Task{ID: "demo", Adapter: domain.AdapterMock, Args: args, Attempt: 1}, printSink{})
	fmt.Println(res.ExitCode, res.Summary, err)
	// Output:
	// stdout: step 1/2 line 1
	// progress: 50% step 1/2
	// stdout: step 2/2 line 1
	// progress: 100% step 2/2
	// stderr: failed at step 2/2 as asked
	// 1 failed at step 2 as asked <nil>
}
