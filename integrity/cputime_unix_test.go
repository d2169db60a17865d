//go:build unix

package integrity_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) this process has used, so
// that a benchmark on a busy shared machine can report events per CPU-second
// beside events per wall-second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
