package mock_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/executortest"
	"github.com/axontask/axontask/executors/mock"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	task := func(a domain.MockArgs) executors.Task {
		return executors.Task{Adapter: domain.AdapterMock, Args: &a}
	}
	lines := func(steps, perStep int) string {
		var b strings.Builder
		for s := 1; s <= steps; s++ {
			for l := 1; l <= perStep; l++ {
				fmt.Fprintf(&b, "step %d/%d line %d\n", s, steps, l)
			}
		}
		return b.String()
	}
	failure := func() executortest.Case {
		return executortest.Case{
			Task: task(domain.MockArgs{Steps: 2, OutputLinesPerStep: 1, FailAtStep: 2}), ExitCode: 1,
			Stdout: lines(2, 1), Stderr: "failed at step 2/2 as asked\n",
			Order: []executortest.Chunk{{Stream: domain.Stdout, Data: lines(2, 1)}, {Stream: domain.Stderr, Data: "failed at step 2/2 as asked\n"}},
		}
	}
	executortest.Run(t, executortest.Harness{
		Executor: mock.New(mock.Options{}),
		Cases: executortest.Cases{
			Success: func() executortest.Case {
				return executortest.Case{Task: task(domain.MockArgs{Steps: 3, OutputLinesPerStep: 2}), Stdout: lines(3, 2)}
			},
			Failure:  failure,
			Ordering: failure,
			LargeOutput: func() executortest.Case {
				return executortest.Case{Task: task(domain.MockArgs{Steps: 40, OutputLinesPerStep: 1000}), Stdout: lines(40, 1000)}
			},
			Long: func() executortest.Case {
				return executortest.Case{Task: task(domain.MockArgs{Steps: domain.MaxMockSteps, IntervalMS: 200, OutputLinesPerStep: 1}), Started: "step 1/"}
			},
			// Stubborn: a mock task has no process to ignore SIGTERM.
		},
	})
}
