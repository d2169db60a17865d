package shell_test

import (
	"context"
	"fmt"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/shell"
)

// printSink prints a task's stdout as it comes and its progress reports.
type printSink struct{}

func (printSink) Output(stream domain.OutputStream, data []byte) {
	if stream == domain.Stdout {
		fmt.Printf("%s", data)
	}
}

func (printSink) Progress(percent float64, message string) {
	fmt.Printf("[%g%% %s]\n", percent, message)
}

func ExampleExecutor_Run() {
	e, err := shell.New(shell.Config{})
	if err != nil {
		panic(err)
	}
	args, err := domain.ParseArgs(domain.AdapterShell, []byte(`{
		"command": ["sh", "-c", "echo building; echo '::progress 50 half way'; echo tested; exit 3"]
	}`))
	if err != nil {
		panic(err)
	}
	res, err := e.Run(context.Background(), executors.Task{ID: "demo", Adapter: domain.AdapterShell, Args: args, Attempt: 1}, printSink{})
	fmt.Println(res.ExitCode, err)
	// Output:
	// building
	// [50% half way]
	// tested
	// 3 <nil>
}
