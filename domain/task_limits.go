package domain

// TaskLimits bound each task of a tenant, from its plan: its resources,
// which the executor enforces on each attempt, and its output, which the
// worker enforces over all its attempts. A zero field sets no limit of its
// kind.
type TaskLimits struct {
	// MemoryBytes bounds the memory of all the task's processes together.
	MemoryBytes int64
	// Pids bounds how many processes and threads the task has at once.
	Pids int
	// CPUMilli bounds the task's CPU time, in thousandths of one CPU
	// (1500: one and a half CPUs).
	CPUMilli int
	// OpenFiles bounds the files each of the task's processes has open.
	OpenFiles int
	// FileSizeBytes bounds the size of any one file the task writes.
	FileSizeBytes int64
	// WorkDirBytes bounds the task's work directory and /tmp together.
	WorkDirBytes int64
	// Egress lets the task reach the internet (never the worker's own
	// host, private ranges or cloud metadata addresses); false: loopback
	// of its own only.
	Egress bool
	// OutputBytes bounds what the task's output takes in its log, over all
	// its attempts: the bytes of its task.output payloads (the output,
	// JSON-escaped, and about 50 bytes each beside it; see
	// Task.OutputBytes). The output that would go past it is cut
	// there, and the task is stopped and fails.
	OutputBytes int64
	// OutputEvents bounds the task.output and task.progress events of the
	// task, over all its attempts; past it, as for OutputBytes.
	OutputEvents int64
}
