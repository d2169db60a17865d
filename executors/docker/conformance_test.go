package docker_test

import (
	"testing"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/executortest"
	"github.com/axontask/axontask/internal/testdocker"
)

func TestMain(m *testing.M) { testdocker.Main(m) }

func TestConformance(t *testing.T) {
	t.Parallel()
	executortest.Run(t, executortest.Harness{
		Executor: newExecutor(t, "conformance-worker"),
		Cases: executortest.ScriptCases(func(script string) executors.Task {
			return executors.Task{Adapter: domain.AdapterDocker, Args: shArgs(script)}
		}),
		Leftovers: containersOf,
	})
}
