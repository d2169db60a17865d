package shell_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/executors"
	"github.com/axontask/axontask/executors/executortest"
	"github.com/axontask/axontask/executors/shell"
	"github.com/axontask/axontask/internal/testproc"
)

// markerVar marks every process of a conformance task, children included,
// so that the suite finds whatever of it is left.
const markerVar = "AXONTASK_CONFORMANCE_MARKER"

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		exec func(t *testing.T) *shell.Executor
	}{
		{"on the host", func(t *testing.T) *shell.Executor { return newExecutor(t, shell.Config{GracePeriod: time.Second}) }},
		{"in the sandbox", newSandboxed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			executortest.Run(t, executortest.Harness{
				Executor: tc.exec(t),
				Cases: executortest.ScriptCases(func(script string) executors.Task {
					args := argv("sh", "-c", script)
					args.Env = domain.SecretEnv{markerVar: domain.Lit(uuid.NewString())}
					return executors.Task{Adapter: domain.AdapterShell, Args: args}
				}),
				Leftovers: func(_ *testing.T, task executors.Task) []string {
					var left []string
					for _, pid := range testproc.WithEnv(markerVar + "=" + task.Args.(*domain.ShellArgs).Env[markerVar].Literal) {
						left = append(left, fmt.Sprintf("process %d", pid))
					}
					return left
				},
			})
		})
	}
}
